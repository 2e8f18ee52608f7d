// A vitest globalSetup (runs in Node, not workerd): a real OpenAI-compatible HTTP server on loopback for
// the provider and execution tests. The request's `model` picks the behaviour; it must not share state
// between tests except through the test key each test puts in its messages.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { TestProject } from "vitest/node";
import type { RecordedRequest } from "./fake-openai-record";

declare module "vitest" {
  export interface ProvidedContext {
    /** Reserved by test/vitest.config.ts before this setup runs; the Worker's OPENAI_BASE_URL names it. */
    fakeOpenAiPort: number;
  }
}

/**
 * Behaviours, by the request's `model`:
 * - ok: 200, echoes the last user message; usage = characters of all messages in, of the reply out
 * - fail500: always 500; bad400: always 400; unknown models: 404
 * - rate429: 429 with `Retry-After: 1` the first time per test key, then as "ok"
 * - flaky500: 500 the first N times per test key (N from `[fail-times:N]` in a message, default 2), then as "ok"
 * - hang: never answers; the request is recorded as aborted when the client goes away
 * - malformed: 200 with a body that is not JSON; nocontent: 200 JSON without choices
 * - truncated: 200 whose connection drops in the middle of the body
 * - badusage: 200 with "twelve chars" and usage fields of the wrong types
 * The test key is `[fake-key:<key>]` anywhere in a message; GET /__requests?key=<key> lists what was sent.
 */

interface ChatBody {
  model?: unknown;
  messages?: { role?: unknown; content?: unknown }[];
}

const KEY_PATTERN = /\[fake-key:([\w-]+)\]/;
const FAIL_TIMES_PATTERN = /\[fail-times:(\d+)\]/;
const DEFAULT_FAIL_TIMES = 2;

const recordsByKey = new Map<string, RecordedRequest[]>();
const callsByKeyAndModel = new Map<string, number>();
const hanging = new Set<ServerResponse>();

function messageTexts(body: ChatBody): string[] {
  return (body.messages ?? []).map((m) => (typeof m.content === "string" ? m.content : ""));
}

function firstMatch(texts: string[], pattern: RegExp): string | undefined {
  for (const text of texts) {
    const match = pattern.exec(text);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

function sendJson(
  response: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(payload));
}

function sendCompletion(response: ServerResponse, body: ChatBody): number {
  const texts = messageTexts(body);
  const lastUser = (body.messages ?? []).filter((m) => m.role === "user").at(-1)?.content;
  const content = typeof lastUser === "string" ? lastUser : "";
  sendJson(response, 200, {
    id: "chatcmpl-fake",
    object: "chat.completion",
    model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: {
      prompt_tokens: texts.reduce((sum, text) => sum + text.length, 0),
      completion_tokens: content.length,
      total_tokens: texts.reduce((sum, text) => sum + text.length, 0) + content.length,
    },
  });
  return 200;
}

/** Counts calls per test key and model, so "the first time" means the first time in that test. */
function callNumber(key: string, model: string): number {
  const counter = `${key}\u0000${model}`;
  const count = (callsByKeyAndModel.get(counter) ?? 0) + 1;
  callsByKeyAndModel.set(counter, count);
  return count;
}

interface Exchange {
  response: ServerResponse;
  body: ChatBody;
  /** This test key's call number for this model, from 1. */
  call: number;
  record: RecordedRequest;
}
type Behaviour = (exchange: Exchange) => number | "hanging";

const fail = (
  response: ServerResponse,
  status: number,
  message: string,
  headers?: Record<string, string>,
) => {
  sendJson(response, status, { error: { message, type: "fake_error" } }, headers);
  return status;
};

const behaviours: Record<string, Behaviour> = {
  ok: ({ response, body }) => sendCompletion(response, body),
  fail500: ({ response }) => fail(response, 500, "the fake upstream failed"),
  bad400: ({ response }) => fail(response, 400, "the fake upstream rejects this request"),
  rate429: ({ response, body, call }) =>
    call > 1 ? sendCompletion(response, body) : fail(response, 429, "slow down", { "retry-after": "1" }),
  flaky500: ({ response, body, call }) => {
    const failTimes = Number(firstMatch(messageTexts(body), FAIL_TIMES_PATTERN) ?? DEFAULT_FAIL_TIMES);
    return call > failTimes
      ? sendCompletion(response, body)
      : fail(response, 500, "the fake upstream is flaky");
  },
  hang: ({ response, record }) => {
    hanging.add(response);
    response.on("close", () => {
      hanging.delete(response);
      record.abortedByClient = !response.writableEnded;
    });
    return "hanging";
  },
  malformed: ({ response }) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end("<html>upstream proxy error</html>");
    return 200;
  },
  truncated: ({ response }) => {
    // Promises more than it sends, then drops the connection mid-body.
    response.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    response.write('{"choices":[{"message":');
    setImmediate(() => response.destroy());
    return 200;
  },
  badusage: ({ response }) => {
    const message = { role: "assistant", content: "twelve chars" };
    sendJson(response, 200, {
      choices: [{ index: 0, message }],
      usage: { prompt_tokens: "12", completion_tokens: -1 },
    });
    return 200;
  },
  nocontent: ({ response }) => {
    sendJson(response, 200, { id: "chatcmpl-fake", object: "chat.completion", choices: [] });
    return 200;
  },
};

function behave(response: ServerResponse, body: ChatBody, key: string, record: RecordedRequest) {
  const model = typeof body.model === "string" ? body.model : "";
  const behaviour = Object.hasOwn(behaviours, model) ? behaviours[model] : undefined;
  if (!behaviour) return fail(response, 404, `the fake server has no model "${model}"`);
  return behaviour({ response, body, call: callNumber(key, model), record });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  if (request.method === "GET" && url.pathname === "/__requests") {
    return sendJson(response, 200, recordsByKey.get(url.searchParams.get("key") ?? "") ?? []);
  }
  const raw = await readBody(request);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = raw;
  }
  const chat = (typeof body === "object" && body !== null ? body : {}) as ChatBody;
  const key = firstMatch(messageTexts(chat), KEY_PATTERN) ?? "";
  const record: RecordedRequest = {
    method: request.method ?? "",
    path: url.pathname,
    authorization: request.headers.authorization ?? null,
    contentType: request.headers["content-type"] ?? null,
    body,
    status: 404,
    abortedByClient: false,
  };
  recordsByKey.set(key, [...(recordsByKey.get(key) ?? []), record]);
  if (request.method !== "POST" || url.pathname !== "/v1/chat/completions") {
    return sendJson(response, 404, { error: { message: `no route ${request.method} ${url.pathname}` } });
  }
  if (typeof body !== "object" || body === null) {
    record.status = 400;
    return sendJson(response, 400, { error: { message: "the request body is not a JSON object" } });
  }
  record.status = behave(response, chat, key, record);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = project.getProvidedContext().fakeOpenAiPort;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent)
        sendJson(response, 500, { error: { message: `fake server bug: ${error.message}` } });
    });
  });
  await listen(server, port);
  return async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
