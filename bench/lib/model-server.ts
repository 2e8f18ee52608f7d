// The benchmark's model over HTTP: an OpenAI-compatible chat-completions server on loopback that answers
// at once with a fixed short reply and its usage, so the HTTP figures show the platform's cost of going
// out, not a model's. Node-side; counts the calls so the benchmark can check each run made the calls it
// should (a run that failed early, or retried, would otherwise look fast).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export const BENCH_MODEL_ID = "bench-instant";

const REPLY_TEXT = "Done.";
const USAGE = { prompt_tokens: 24, completion_tokens: 2, total_tokens: 26 };

export interface ModelServer {
  /** What OPENAI_BASE_URL names: `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  /** Chat completions answered since the server started. */
  calls(): number;
  stop(): Promise<void>;
}

interface ChatBody {
  model?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
}

function completion(model: unknown) {
  return {
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content: REPLY_TEXT }, finish_reason: "stop" }],
    usage: USAGE,
  };
}

/** The same reply as server-sent events, for a caller that streams (`stream: true`). */
function streamed(response: ServerResponse, body: ChatBody): void {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", model: body.model, choices, ...extra })}\n\n`;
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  response.write(
    chunk([{ index: 0, delta: { role: "assistant", content: REPLY_TEXT }, finish_reason: null }]) +
      chunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
      (body.stream_options?.include_usage === true ? chunk([], { usage: USAGE }) : "") +
      "data: [DONE]\n\n",
  );
  response.end();
}

function answer(request: IncomingMessage, response: ServerResponse, text: string): boolean {
  if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
    response.writeHead(404, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: `no route ${request.method} ${request.url}` } }));
    return false;
  }
  let body: ChatBody;
  try {
    body = JSON.parse(text) as ChatBody;
  } catch {
    response.writeHead(400, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: "the body is not JSON" } }));
    return false;
  }
  if (body.stream === true) streamed(response, body);
  else {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(completion(body.model)));
  }
  return true;
}

/**
 * The `--var` bindings that point the runtime's platform OpenAI-compatible provider at `server`;
 * OPENAI_MODELS="*" lets a role name the server's model whatever the platform's own list says.
 */
export function modelServerVars(server: ModelServer): Record<string, string> {
  return { OPENAI_BASE_URL: server.baseUrl, OPENAI_MODEL: BENCH_MODEL_ID, OPENAI_MODELS: "*" };
}

export async function startModelServer(): Promise<ModelServer> {
  let calls = 0;
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      if (answer(request, response, Buffer.concat(parts).toString("utf8"))) calls++;
    });
  });
  // workerd keeps connections to reuse; Node's default 5 s idle close would race a reuse (a reset fetch,
  // then a retried step) whenever the benchmark pauses between runs.
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = server.keepAliveTimeout + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the model server has no port");
  return {
    baseUrl: `http://127.0.0.1:${address.port}/v1`,
    calls: () => calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
