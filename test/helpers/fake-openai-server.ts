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
 * With `stream: true` every behaviour that answers 200 with a reply streams it as server-sent events
 * (see streamCompletion). Streaming behaviours, which echo like "ok" when not asked to stream:
 * - stream: the echo in 4-character chunks, each event written in two halves (split mid-event, even
 *   mid-character), a keep-alive comment first, CRLF line ends on every other event, a delay between events
 *   (`[chunk-delay:N]` ms, default 10); the usage event last when stream_options.include_usage is set
 * - streamdrop: two chunks, then the connection is destroyed (no finish_reason, no [DONE])
 * - streamcut: two chunks, then the response ends cleanly but early (no finish_reason, no [DONE])
 * - streamerror: one chunk, then an error event (as OpenAI sends mid-stream) and the end
 * - streamhang: two chunks, then nothing; recorded as aborted when the client goes away
 * - streamignored: answers `stream: true` with a plain JSON completion (a server without streaming)
 * The request body (response_format included) is recorded as sent.
 * The test key is `[fake-key:<key>]` anywhere in a message; GET /__requests?key=<key> lists what was sent.
 */

interface ChatBody {
  model?: unknown;
  messages?: { role?: unknown; content?: unknown }[];
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
}

const KEY_PATTERN = /\[fake-key:([\w-]+)\]/;
const FAIL_TIMES_PATTERN = /\[fail-times:(\d+)\]/;
const DEFAULT_FAIL_TIMES = 2;
const CHUNK_DELAY_PATTERN = /\[chunk-delay:(\d+)\]/;
const DEFAULT_CHUNK_DELAY_MS = 10;
const STREAM_CHUNK_CHARS = 4;

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

function echoOf(body: ChatBody): string {
  const lastUser = (body.messages ?? []).filter((m) => m.role === "user").at(-1)?.content;
  return typeof lastUser === "string" ? lastUser : "";
}

function usageFor(body: ChatBody, content: string) {
  const promptTokens = messageTexts(body).reduce((sum, text) => sum + text.length, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: content.length,
    total_tokens: promptTokens + content.length,
  };
}

function sendPlainCompletion(response: ServerResponse, body: ChatBody): number {
  const content = echoOf(body);
  sendJson(response, 200, {
    id: "chatcmpl-fake",
    object: "chat.completion",
    model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: usageFor(body, content),
  });
  return 200;
}

function sendCompletion(response: ServerResponse, body: ChatBody): number {
  if (body.stream === true) {
    void streamCompletion(response, body, { chunks: Number.POSITIVE_INFINITY, split: false, delayMs: 0 });
    return 200;
  }
  return sendPlainCompletion(response, body);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function chunkEvent(body: ChatBody, delta: Record<string, unknown>, finishReason: string | null) {
  const choice = { index: 0, delta, finish_reason: finishReason };
  return { id: "chatcmpl-fake", object: "chat.completion.chunk", model: body.model, choices: [choice] };
}

/** The SSE events of the echo reply: role, content chunks, finish, usage (if asked), [DONE]. */
function streamEvents(body: ChatBody): string[] {
  const content = echoOf(body);
  const pieces: string[] = [];
  for (let at = 0; at < content.length; at += STREAM_CHUNK_CHARS)
    pieces.push(content.slice(at, at + STREAM_CHUNK_CHARS));
  const events = [
    chunkEvent(body, { role: "assistant", content: "" }, null),
    ...pieces.map((piece) => chunkEvent(body, { content: piece }, null)),
    chunkEvent(body, {}, "stop"),
    ...(body.stream_options?.include_usage === true
      ? [
          {
            id: "chatcmpl-fake",
            object: "chat.completion.chunk",
            choices: [],
            usage: usageFor(body, content),
          },
        ]
      : []),
  ].map((event) => JSON.stringify(event));
  return [...events, "[DONE]"];
}

interface StreamPlan {
  /** How many events to send before `ending` (all of them when Infinity). */
  chunks: number;
  /** Write each event in two halves, split at its middle byte (which may fall inside a character). */
  split: boolean;
  delayMs: number;
  ending?: "drop" | "end" | "error" | "hang";
}

async function streamCompletion(response: ServerResponse, body: ChatBody, plan: StreamPlan): Promise<void> {
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  response.write(": keep-alive\n\n");
  const events = streamEvents(body);
  const sent = Math.min(plan.chunks, events.length);
  for (const [index, data] of events.slice(0, sent).entries()) {
    if (plan.delayMs > 0) await sleep(plan.delayMs);
    if (response.destroyed) return;
    const bytes = Buffer.from(`data: ${data}${index % 2 === 0 ? "\n\n" : "\r\n\r\n"}`, "utf8");
    if (plan.split) {
      const middle = Math.floor(bytes.length / 2);
      response.write(bytes.subarray(0, middle));
      await sleep(1);
      response.write(bytes.subarray(middle));
    } else response.write(bytes);
  }
  if (plan.ending === "drop") {
    // destroy() discards what is still buffered: let the events already written reach the client first.
    await sleep(20);
    response.destroy();
  } else if (plan.ending === "hang") return;
  else {
    if (plan.ending === "error")
      response.write(
        `data: ${JSON.stringify({ error: { message: "the fake upstream broke mid-stream", type: "server_error" } })}\n\n`,
      );
    response.end();
  }
}

function streamed(plan: Omit<StreamPlan, "delayMs" | "split">): Behaviour {
  return ({ response, body, record }) => {
    if (body.stream !== true) return sendPlainCompletion(response, body);
    if (plan.ending === "hang") watchForAbort(response, record);
    const delayMs = Number(firstMatch(messageTexts(body), CHUNK_DELAY_PATTERN) ?? DEFAULT_CHUNK_DELAY_MS);
    void streamCompletion(response, body, { ...plan, split: true, delayMs });
    return 200;
  };
}

function watchForAbort(response: ServerResponse, record: RecordedRequest) {
  hanging.add(response);
  response.on("close", () => {
    hanging.delete(response);
    record.abortedByClient = !response.writableEnded;
  });
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
    watchForAbort(response, record);
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
  stream: streamed({ chunks: Number.POSITIVE_INFINITY }),
  streamdrop: streamed({ chunks: 3, ending: "drop" }),
  streamcut: streamed({ chunks: 3, ending: "end" }),
  streamerror: streamed({ chunks: 2, ending: "error" }),
  streamhang: streamed({ chunks: 3, ending: "hang" }),
  streamignored: ({ response, body }) => sendPlainCompletion(response, body),
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
