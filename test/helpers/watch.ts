// The dashboard's live view read as a browser's EventSource reads it: orchestrationManagement.watchExecution,
// a tRPC subscription served as Server-Sent Events through the real Worker.
import { expect } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { BASE_URL, type TestClient, workerFetch } from "./client";

export interface SseEvent {
  event: string;
  data: string;
}

/** Opens the subscription and returns a reader of its events (one event per call, undefined at the end). */
export async function watch(trpc: TestClient & { jar: { cookie?: string } }, executionId: string) {
  const input = encodeURIComponent(JSON.stringify({ executionId }));
  const response = await workerFetch(
    `${BASE_URL}/trpc/orchestrationManagement.watchExecution?input=${input}`,
    {
      headers: { accept: "text/event-stream", cookie: trpc.jar.cookie ?? "" },
    },
  );
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error("no body");
  let buffer = "";
  return async function next(): Promise<SseEvent | undefined> {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split("\n")
            .filter((line) => line.startsWith(`${name}:`))
            .map((line) => line.slice(name.length + 1).trimStart())
            .join("\n");
        if (block.startsWith(":")) continue; // comment / keep-alive
        return { event: field("event") || "message", data: field("data") };
      }
      const chunk = await reader.read();
      if (chunk.done) return undefined;
      buffer += chunk.value;
    }
  };
}

/** Reads events until the stream ends; returns the statuses pushed and the names of the other events. */
export async function drain(next: () => Promise<SseEvent | undefined>) {
  const statuses: ExecutionStatus[] = [];
  const others: SseEvent[] = [];
  for (let event = await next(); event; event = await next()) {
    if (event.event === "message" && event.data) statuses.push(JSON.parse(event.data) as ExecutionStatus);
    else others.push(event);
    if (event.event === "return" || event.event === "serialized-error") break;
  }
  return { statuses, others };
}
