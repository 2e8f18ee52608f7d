// A loopback OpenAI-compatible chat-completions server for the browser tests, so runs take visible time:
// model "pause-<ms>" answers after that many milliseconds; model "slow" answers only after 10 minutes, so
// a run using it stays running until it is cancelled (the server records that the call was aborted);
// model "fail-first-<n>" answers its first n requests with a 500, then like "pause-300"; model
// "stream-<ms>" answers like "pause-<ms>" but, asked with `stream: true`, sends its reply as Server-Sent
// Events a few words every ~150 ms over about that long, so the dashboard can be seen showing it grow.
// Any other answering model asked to stream sends its whole reply as events once its pause is over.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const SLOW_REPLY_MS = 600_000;
const FLAKY_REPLY_MS = 300;
const STREAM_CHUNK_EVERY_MS = 150;
const STREAM_WORDS_PER_CHUNK = 3;
const STREAM_WORDS =
  "Streaming the reply a few words at a time, so that the dashboard shows the text as it grows.".split(" ");

export interface ModelServer {
  /** Base URL for OPENAI_BASE_URL, ending in /v1. */
  url: string;
  /** Requests seen per model, how many the caller gave up on before the answer, and how many streamed. */
  stats(model: string): ModelStats;
  stop(): Promise<void>;
}

interface ModelStats {
  requests: number;
  aborted: number;
  streamed: number;
}

interface ChatBody {
  model?: string;
  stream?: boolean;
  messages?: { role?: string; content?: string }[];
}

function lastUserText(body: ChatBody): string {
  return body.messages?.filter((m) => m.role === "user").at(-1)?.content ?? "";
}

function usageOf(body: ChatBody, content: string) {
  return {
    prompt_tokens: Math.ceil(lastUserText(body).length / 4) + 20,
    completion_tokens: Math.ceil(content.length / 4),
  };
}

function replyText(body: ChatBody, waitedMs: number): string {
  const user = lastUserText(body);
  return `Answer from the e2e model "${body.model}" after ${waitedMs} ms.\nYou sent: ${user.replace(/\s+/g, " ").slice(0, 160)}`;
}

function reply(response: ServerResponse, body: ChatBody, waitedMs: number) {
  const content = replyText(body, waitedMs);
  response.writeHead(200, { "content-type": "application/json" });
  response.end(
    JSON.stringify({
      choices: [{ message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: usageOf(body, content),
    }),
  );
}

/** The reply of a streaming model cut into the pieces it sends: enough pieces to last about `ms`. */
function streamPieces(body: ChatBody, ms: number): string[] {
  const count = Math.max(3, Math.round(ms / STREAM_CHUNK_EVERY_MS));
  const pieces = [`Answer from the e2e model "${body.model}", streamed. `];
  for (let i = 1; i < count; i++) {
    const words = Array.from(
      { length: STREAM_WORDS_PER_CHUNK },
      (_, k) => STREAM_WORDS[((i - 1) * STREAM_WORDS_PER_CHUNK + k) % STREAM_WORDS.length],
    );
    pieces.push(`${words.join(" ")} `);
  }
  return pieces;
}

function chunkEvent(delta: Record<string, unknown>, finishReason: string | null, extra = {}): string {
  const chunk = {
    id: "chatcmpl-e2e",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model: "e2e",
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    ...extra,
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/**
 * Sends `pieces` as chat.completion.chunk events, one every `everyMs` (0: all at once), then the
 * finish, a usage chunk (as with stream_options.include_usage) and [DONE]. Answers a stopper for aborts.
 */
function streamReply(response: ServerResponse, body: ChatBody, pieces: string[], everyMs: number) {
  response.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  response.write(chunkEvent({ role: "assistant", content: "" }, null));
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    const content = pieces.join("");
    response.write(chunkEvent({}, "stop"));
    response.write(
      `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [], usage: usageOf(body, content) })}\n\n`,
    );
    response.end("data: [DONE]\n\n");
  };
  const sendNext = () => {
    if (response.destroyed) return;
    if (sent === pieces.length) return finish();
    response.write(chunkEvent({ content: pieces[sent] }, null));
    sent += 1;
    if (everyMs === 0) sendNext();
    else timer = setTimeout(sendNext, everyMs);
  };
  sendNext();
  return () => clearTimeout(timer);
}

/** How long a model waits before it answers; -1 for a model this server does not know. */
function waitFor(model: string): number {
  const timed = /^(?:pause|stream)-(\d+)$/.exec(model);
  if (timed?.[1]) return Number(timed[1]);
  if (model === "slow") return SLOW_REPLY_MS;
  if (/^fail-first-\d+$/.test(model)) return FLAKY_REPLY_MS;
  return -1;
}

function failsOnPurpose(model: string, stats: ModelStats): boolean {
  const failFirst = /^fail-first-(\d+)$/.exec(model);
  return failFirst?.[1] !== undefined && stats.requests <= Number(failFirst[1]);
}

function sendError(response: ServerResponse, status: number, message: string) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify({ error: { message } }));
}

export async function startModelServer(): Promise<ModelServer> {
  const counts = new Map<string, ModelStats>();
  const stoppers = new Set<() => void>();
  const handle = (response: ServerResponse, text: string) => {
    const body = JSON.parse(text || "{}") as ChatBody;
    const model = body.model ?? "";
    const stats = counts.get(model) ?? { requests: 0, aborted: 0, streamed: 0 };
    counts.set(model, stats);
    stats.requests += 1;
    if (failsOnPurpose(model, stats))
      return sendError(response, 500, `the e2e model fails request ${stats.requests} on purpose`);
    const waitMs = waitFor(model);
    if (waitMs < 0) return sendError(response, 404, `unknown model ${model}`);
    let stop: () => void;
    if (body.stream && model.startsWith("stream-")) {
      // The stream itself takes the time: no pause before the first words.
      stats.streamed += 1;
      stop = streamReply(response, body, streamPieces(body, waitMs), STREAM_CHUNK_EVERY_MS);
    } else {
      const timer = setTimeout(() => {
        if (response.destroyed) return;
        if (!body.stream) return reply(response, body, waitMs);
        stats.streamed += 1;
        streamReply(response, body, [replyText(body, waitMs)], 0);
      }, waitMs);
      stop = () => clearTimeout(timer);
    }
    stoppers.add(stop);
    response.on("close", () => {
      stoppers.delete(stop);
      if (response.writableEnded) return;
      stats.aborted += 1;
      stop();
    });
  };
  const server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on("end", () => handle(response, text));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats: (model) => ({ ...(counts.get(model) ?? { requests: 0, aborted: 0, streamed: 0 }) }),
    stop: async () => {
      for (const stop of stoppers) stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
