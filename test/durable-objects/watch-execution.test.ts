// The dashboard's live view: orchestrationManagement.watchExecution, a tRPC subscription served as
// Server-Sent Events, read here as a browser's EventSource would read it, through the real Worker.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { BASE_URL, newTenant, type TestClient, workerFetch } from "../helpers/client";
import { gate, orchestrationWith } from "../helpers/runs";

interface SseEvent {
  event: string;
  data: string;
}

/** Opens the subscription and returns a reader of its events (one event per call, undefined at the end). */
async function watch(trpc: TestClient & { jar: { cookie?: string } }, executionId: string) {
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
async function drain(next: () => Promise<SseEvent | undefined>) {
  const statuses: ExecutionStatus[] = [];
  const others: SseEvent[] = [];
  for (let event = await next(); event; event = await next()) {
    if (event.event === "message" && event.data) statuses.push(JSON.parse(event.data) as ExecutionStatus);
    else others.push(event);
    if (event.event === "return" || event.event === "serialized-error") break;
  }
  return { statuses, others };
}

describe("watchExecution", () => {
  it("pushes the status at once, then each change, and ends after the terminal one", async () => {
    const { trpc } = await newTenant();
    const drafted = gate<string>();
    const polished = gate<string>();
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Draft" }, { name: "Polish" }],
      ({ request }) =>
        request.messages.at(-1)?.content.includes("previous") ? polished.promise : drafted.promise,
    );
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const next = await watch(trpc, id);
    const nextStatus = async () => {
      for (let event = await next(); event; event = await next()) {
        if (event.event === "message") return JSON.parse(event.data) as ExecutionStatus;
      }
      throw new Error("the stream ended");
    };

    const first = await nextStatus();
    expect(first.id).toBe(id);
    expect(first.stepLogs[0]?.status).not.toBe("completed");

    // Each gate opens 50 ms after the stream showed the step running, once the subscription waits on the
    // object again: ExecutionObject.watch decides "stale" before its serialized load, so a change that
    // lands in between is only pushed with the next change (or after the 25 s wait).
    let status = first;
    while (status.stepLogs[0]?.status !== "running") status = await nextStatus();
    await scheduler.wait(50);
    drafted.open("a draft");
    while (status.stepLogs[0]?.status !== "completed") status = await nextStatus();
    expect(status.status).toBe("running");
    expect(status.stepLogs[1]?.status).toBe("running");

    await scheduler.wait(50);
    polished.open("polished");
    const { statuses, others } = await drain(next);
    const last = statuses.at(-1);
    expect(last?.status).toBe("completed");
    expect(last?.stepLogs.map((s) => s.status)).toEqual(["completed", "completed"]);
    expect(last?.output).toBe("polished");
    expect(others.map((e) => e.event)).toContain("return");
  });

  it("answers a finished execution with its final status and ends", async () => {
    const { trpc } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Only" }], () => "done");
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    let final: ExecutionStatus | undefined;
    for (let i = 0; i < 200 && final?.status !== "completed"; i++) {
      final = (await trpc.orchestrationManagement.getExecutionStatus.query({
        executionId: id,
      })) as ExecutionStatus;
      if (final.status !== "completed") await scheduler.wait(10);
    }
    const { statuses, others } = await drain(await watch(trpc, id));
    expect(statuses.map((s) => s.status)).toEqual(["completed"]);
    expect(others.map((e) => e.event)).toContain("return");
  });

  it("refuses another tenant's execution as NOT_FOUND, like one that does not exist", async () => {
    const owner = await newTenant("owner");
    const stranger = await newTenant("stranger");
    const { orchestration } = await orchestrationWith(owner.trpc, [{ name: "Only" }], () => "done");
    const { id } = await owner.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
    });
    for (const executionId of [id, "exe_does_not_exist"]) {
      const { statuses, others } = await drain(await watch(stranger.trpc, executionId));
      expect(statuses).toEqual([]);
      const error = others.find((e) => e.event === "serialized-error");
      expect(JSON.parse(error?.data ?? "{}")).toMatchObject({ data: { code: "NOT_FOUND" } });
    }
  });
});
