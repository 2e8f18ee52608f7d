// The call path of model steps that go out (not the local model's instant replies): a chain's next call
// starts where the previous reply arrived, with no alarm; a wide fan-out is dispatched to call runner
// objects so it is not held to one object's six connections (production's rule, modeled by the gate);
// results are committed once, and a result for an attempt that has ended is noted as late and ignored.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONNECTIONS_PER_INVOCATION, widestGateSeen } from "../../durable-objects/execution/connection-gate";
import { alarmInvocations } from "../../durable-objects/execution/object";
import type { ExecutionRpc } from "../../durable-objects/execution/stub";
import { newTenant } from "../helpers/client";
import { statusOf } from "../helpers/crash";
import { waitFor, waitForEnd } from "../helpers/executions";
import { orchestrationWith, stepInputOf } from "../helpers/runs";

const MODEL_MS = 500;

function execution(executionId: string) {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
}

function rpc(executionId: string): ExecutionRpc {
  return execution(executionId) as unknown as ExecutionRpc;
}

/** Kills the execution object's instance the way an eviction or a crash would (its memory is gone). */
async function restartObject(executionId: string): Promise<void> {
  await runInDurableObject(execution(executionId), (_, state) => {
    state.abort("restart for the test");
  }).catch(() => undefined);
}

/** A model that takes `ms` to answer and counts how many of its calls are in flight at once. */
function slowModel(ms: number) {
  const seen = { now: 0, widest: 0, calls: 0 };
  const script = async () => {
    seen.calls += 1;
    seen.now += 1;
    seen.widest = Math.max(seen.widest, seen.now);
    await scheduler.wait(ms);
    seen.now -= 1;
    return "done";
  };
  return { seen, script };
}

describe("the call path", () => {
  it("starts each next call of a chain where the previous reply arrived: no alarm runs", async () => {
    const { trpc } = await newTenant("call-path");
    const steps = Array.from({ length: 6 }, (_, i) => ({ name: `S${i}`, timeout: 60_000 }));
    const { orchestration } = await orchestrationWith(trpc, steps, async () => {
      await scheduler.wait(2);
      return "next";
    });
    const alarmsBefore = alarmInvocations();
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const ended = await waitForEnd(trpc, id);

    expect(ended.status).toBe("completed");
    expect(ended.stepLogs.map((log) => log.attempts.length)).toEqual(steps.map(() => 1));
    expect(alarmInvocations()).toBe(alarmsBefore);
  });

  it(`runs 60 branches of a ${MODEL_MS} ms model at least 50 at a time, no object over ${CONNECTIONS_PER_INVOCATION} connections`, async () => {
    const { trpc } = await newTenant("call-path");
    const model = slowModel(MODEL_MS);
    const branches = Array.from({ length: 60 }, (_, i) => ({ name: `B${i}`, parallelGroup: "fan" }));
    const { orchestration } = await orchestrationWith(trpc, [...branches, { name: "Join" }], model.script);
    const run = async () => {
      const startedAt = Date.now();
      const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
      const ended = await waitForEnd(trpc, id);
      return { ended, tookMs: Date.now() - startedAt };
    };
    // The first run also creates the tenant's call runners (slow on local disk); the second is the figure.
    expect((await run()).ended.status).toBe("completed");
    model.seen.widest = 0;
    model.seen.calls = 0;
    const { ended, tookMs } = await run();

    expect(ended.status).toBe("completed");
    expect(model.seen.calls).toBe(61);
    expect(model.seen.widest).toBeGreaterThanOrEqual(50);
    expect(widestGateSeen()).toBeLessThanOrEqual(CONNECTIONS_PER_INVOCATION);
    // Two model times (the fan-out, then the join) and the hand-offs; six at a time would take eleven.
    expect(tookMs).toBeLessThan(5 * MODEL_MS);
  });

  it("commits a dispatched result once: across a restart of the execution object, and when told twice", async () => {
    const { trpc } = await newTenant("call-path");
    let release = false;
    const calls = new Map<string, number>();
    const branches = Array.from({ length: 6 }, (_, i) => ({
      name: `B${i}`,
      parallelGroup: "fan",
      inputMapping: { step: `B${i}` },
    }));
    const { orchestration } = await orchestrationWith(trpc, branches, async (call) => {
      const step = String(stepInputOf(call).step);
      calls.set(step, (calls.get(step) ?? 0) + 1);
      // The last branch is beyond the object's inline calls, so a runner makes it.
      while (step === "B5" && !release) await scheduler.wait(2);
      return `reply of ${step}`;
    });
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    await waitFor(
      () => statusOf(trpc, id),
      (status) => status.stepLogs.filter((log) => log.status === "completed").length === 5,
    );

    await restartObject(id);
    // The new instance's alarm does not take the dispatched call for cut off (it is not its to make).
    await runDurableObjectAlarm(execution(id));
    const held = await statusOf(trpc, id);
    expect(held.stepLogs[5]?.status).toBe("running");
    expect(held.stepLogs[5]?.attempts.map((a) => a.status)).toEqual(["running"]);

    release = true;
    const ended = await waitForEnd(trpc, id);
    expect(ended.status).toBe("completed");
    expect(ended.stepLogs[5]?.attempts.map((a) => a.status)).toEqual(["succeeded"]);
    expect(calls.get("B5")).toBe(1);

    // The same result again (a runner retrying a report it did not see answered) changes nothing.
    const result = { ok: true as const, text: "another reply", usage: usage() };
    expect(await rpc(id).attemptResults([{ instance: "5", attempt: 1, result }])).toEqual({
      ok: true,
      value: null,
    });
    expect(await statusOf(trpc, id)).toEqual(ended);
  });

  it("notes a result for an attempt that timed out as late, and ignores it", async () => {
    const { trpc } = await newTenant("call-path");
    let answered = 0;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Slow", timeout: 1000, maxRetries: 1, retryDelay: 0 }],
      async (call) => {
        answered += 1;
        if (answered === 1) await new Promise((resolve) => call.signal.addEventListener("abort", resolve));
        return "second attempt's reply";
      },
    );
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const ended = await waitForEnd(trpc, id);
    expect(ended.status).toBe("completed");
    expect(ended.stepLogs[0]?.attempts.map((a) => a.status)).toEqual(["timed_out", "succeeded"]);

    const late = { ok: true as const, text: "the first attempt's reply, too late", usage: usage() };
    await rpc(id).attemptResults([{ instance: "0", attempt: 1, result: late }]);
    await rpc(id).attemptResults([{ instance: "0", attempt: 1, result: late }]);
    const after = await statusOf(trpc, id);
    const first = after.stepLogs[0]?.attempts[0];
    expect(first?.status).toBe("timed_out");
    expect(first?.lateResult).toMatchObject({ ok: true, error: null });
    expect(after.output).toEqual(ended.output);
    expect(after.stepLogs[0]?.output).toEqual(ended.stepLogs[0]?.output);
  });

  it("answers a result for an execution that does not exist with an error, changing nothing", async () => {
    const result = { ok: true as const, text: "x", usage: usage() };
    expect(await rpc("exe_missing").attemptResults([{ instance: "0", attempt: 1, result }])).toEqual({
      ok: false,
      error: "no such execution",
    });
  });
});

function usage() {
  return { model: "script", tokensIn: 1, tokensOut: 1, costUsd: 0 };
}
