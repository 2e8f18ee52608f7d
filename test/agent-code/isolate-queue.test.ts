// Loaded isolates wait in our own queue instead of failing: at most 4 in flight per request and 10 per
// Durable Object. Shown on the gate itself, on runs sharing one request's gate, and on an execution that
// fans out into six meta steps at once.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { IsolateGate, requestGate } from "../../worker/agent-code/gate";
import { runAgentCode } from "../../worker/agent-code/runner";
import { codeReply, metaTenant } from "../helpers/agent-code";
import { scriptedModel, waitForEnd } from "../helpers/executions";

/** Code that holds its isolate for `ms` and logs when it started and ended. */
const holdFor = (ms: number) =>
  `const start = Date.now();\nawait new Promise((r) => setTimeout(r, ${ms}));\nconsole.log(start, Date.now());`;

/** The most intervals [start, end] that overlap at any instant. */
function peakOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  edges.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0));
  let current = 0;
  let peak = 0;
  for (const [, delta] of edges) {
    current += delta ?? 0;
    peak = Math.max(peak, current);
  }
  return peak;
}

const intervalOf = (logs: string | undefined): [number, number] => {
  const [start, end] = String(logs).replace("[log] ", "").split(" ").map(Number);
  return [start ?? 0, end ?? 0];
};

describe("the isolate queue", () => {
  it("hands slots out in arrival order and never more than its limit", async () => {
    const gate = new IsolateGate(2);
    const order: number[] = [];
    const releases = await Promise.all([gate.acquire(), gate.acquire()]);
    const waiting = [3, 4, 5].map((n) =>
      gate.acquire().then((release) => {
        order.push(n);
        expect(gate.inFlight).toBeLessThanOrEqual(2);
        release();
      }),
    );
    expect(gate.queued).toBe(3);
    for (const release of releases) release();
    await Promise.all(waiting);
    expect(order).toEqual([3, 4, 5]);
    expect([gate.inFlight, gate.queued, gate.peak]).toEqual([0, 0, 2]);
  });

  it("runs six pieces of code from one request four at a time, none refused", async () => {
    const { tenant, designer } = await metaTenant();
    const gate = requestGate({});
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        runAgentCode(env, {
          tenantId: tenant.id,
          roleId: designer.id,
          code: holdFor(100),
          timeoutMs: 5000,
          gates: [gate],
        }),
      ),
    );
    expect(runs.map((run) => run.ok)).toEqual([true, true, true, true, true, true]);
    expect(gate.peak).toBe(4);
    expect(peakOverlap(runs.map((run) => intervalOf(run.logs[0]?.message)))).toBeLessThanOrEqual(4);
  });

  it("queues a fan-out of six meta steps in one execution to four isolates at a time", async () => {
    const { trpc, designer } = await metaTenant();
    const model = scriptedModel(({ request }) =>
      request.messages.some((m) => m.role === "assistant") ? "done" : codeReply(holdFor(100)),
    );
    await trpc.role.update.mutate({ roleId: designer.id, updates: { hyperparameters: { model } } });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Wide",
      steps: Array.from({ length: 6 }, (_, i) => ({
        name: `Part ${i}`,
        roleName: designer.name,
        parallelGroup: "all",
      })),
    });
    const status = await waitForEnd(
      trpc,
      (await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id })).id,
    );
    expect(status.status).toBe("completed");
    const intervals = status.stepLogs.map((step) => intervalOf(step.attempts[0]?.turns[0]?.run?.logs));
    expect(intervals.every(([start, end]) => end - start >= 100)).toBe(true);
    expect(peakOverlap(intervals)).toBe(4);
  });
});
