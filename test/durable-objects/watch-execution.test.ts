// The dashboard's live view: orchestrationManagement.watchExecution, a tRPC subscription served as
// Server-Sent Events, read here as a browser's EventSource would read it, through the real Worker.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { newTenant } from "../helpers/client";
import { gate, orchestrationWith } from "../helpers/runs";
import { drain, watch } from "../helpers/watch";

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
