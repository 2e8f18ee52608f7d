// A loopback OpenAI-compatible chat-completions server for the browser tests, so runs take visible time:
// model "pause-<ms>" answers after that many milliseconds; model "slow" answers only after 10 minutes, so
// a run using it stays running until it is cancelled (the server records that the call was aborted);
// model "fail-first-<n>" answers its first n requests with a 500, then like "pause-300".
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const SLOW_REPLY_MS = 600_000;
const FLAKY_REPLY_MS = 300;

export interface ModelServer {
  /** Base URL for OPENAI_BASE_URL, ending in /v1. */
  url: string;
  /** Requests seen per model, and how many of them the caller gave up on before the answer. */
  stats(model: string): { requests: number; aborted: number };
  stop(): Promise<void>;
}

interface ChatBody {
  model?: string;
  messages?: { role?: string; content?: string }[];
}

function reply(response: ServerResponse, body: ChatBody, waitedMs: number) {
  const user = body.messages?.filter((m) => m.role === "user").at(-1)?.content ?? "";
  const content = `Answer from the e2e model "${body.model}" after ${waitedMs} ms.\nYou sent: ${user.replace(/\s+/g, " ").slice(0, 160)}`;
  response.writeHead(200, { "content-type": "application/json" });
  response.end(
    JSON.stringify({
      choices: [{ message: { role: "assistant", content } }],
      usage: {
        prompt_tokens: Math.ceil(user.length / 4) + 20,
        completion_tokens: Math.ceil(content.length / 4),
      },
    }),
  );
}

export async function startModelServer(): Promise<ModelServer> {
  const counts = new Map<string, { requests: number; aborted: number }>();
  const pending = new Set<NodeJS.Timeout>();
  const handle = (response: ServerResponse, text: string) => {
    const body = JSON.parse(text || "{}") as ChatBody;
    const model = body.model ?? "";
    const stats = counts.get(model) ?? { requests: 0, aborted: 0 };
    counts.set(model, stats);
    stats.requests += 1;
    const pause = /^pause-(\d+)$/.exec(model);
    const failFirst = /^fail-first-(\d+)$/.exec(model);
    if (failFirst?.[1] && stats.requests <= Number(failFirst[1])) {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ error: { message: `the e2e model fails request ${stats.requests} on purpose` } }),
      );
      return;
    }
    const waitMs = pause?.[1]
      ? Number(pause[1])
      : model === "slow"
        ? SLOW_REPLY_MS
        : failFirst
          ? FLAKY_REPLY_MS
          : -1;
    if (waitMs < 0) {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: `unknown model ${model}` } }));
      return;
    }
    const timer = setTimeout(() => {
      pending.delete(timer);
      if (!response.destroyed) reply(response, body, waitMs);
    }, waitMs);
    pending.add(timer);
    response.on("close", () => {
      if (!response.writableEnded) {
        stats.aborted += 1;
        clearTimeout(timer);
        pending.delete(timer);
      }
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
    stats: (model) => ({ ...(counts.get(model) ?? { requests: 0, aborted: 0 }) }),
    stop: async () => {
      for (const timer of pending) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
