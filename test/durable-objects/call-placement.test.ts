// Where an execution object's model calls are made. A model whose recent calls were quick keeps a wide
// fan-out's calls in the object, four at a time, their replies decided a few at a time; a model that
// turns slow has its queued calls handed over to call runners after HAND_OVER_AFTER_MS, each still one
// attempt, and a call handed over is not made again when the object restarts.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HAND_OVER_AFTER_MS, INLINE_CALLS } from "../../durable-objects/execution/calls";
import { CONNECTIONS_PER_INVOCATION, widestGateSeen } from "../../durable-objects/execution/connection-gate";
import { decisionsTaken } from "../../durable-objects/execution/object";
import type { ScriptCall } from "../../worker/models/scripted";
import { newTenant } from "../helpers/client";
import { statusOf } from "../helpers/crash";
import { waitFor, waitForEnd } from "../helpers/executions";
import { orchestrationWith, stepInputOf } from "../helpers/runs";

const SLOW_MS = 500;

/**
 * A model whose reply takes `delay.ms`, or waits while `delay.hold` (both changeable between runs),
 * counting its calls per step and how many are in flight at once.
 */
function pacedModel(initialMs: number) {
  const delay = { ms: initialMs, hold: false };
  const seen = { now: 0, widest: 0, calls: new Map<string, number>() };
  const script = async (call: ScriptCall) => {
    const step = String(stepInputOf(call).step);
    seen.calls.set(step, (seen.calls.get(step) ?? 0) + 1);
    seen.now += 1;
    seen.widest = Math.max(seen.widest, seen.now);
    if (delay.hold) while (delay.hold) await scheduler.wait(5);
    else await scheduler.wait(delay.ms);
    seen.now -= 1;
    return `reply of ${step}`;
  };
  const reset = () => {
    seen.widest = 0;
    seen.calls.clear();
  };
  return { delay, seen, script, reset };
}

const fanOut = (width: number) => [
  ...Array.from({ length: width }, (_, i) => ({
    name: `B${i}`,
    parallelGroup: "fan",
    inputMapping: { step: `B${i}` },
    timeout: 60_000,
  })),
  { name: "Join", inputMapping: { step: "Join" }, timeout: 60_000 },
];

async function setUp(width: number) {
  const { trpc } = await newTenant("call-placement");
  const model = pacedModel(2);
  const { orchestration } = await orchestrationWith(trpc, fanOut(width), model.script);
  const run = async () => {
    const startedAt = Date.now();
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const ended = await waitForEnd(trpc, id);
    return { id, ended, tookMs: Date.now() - startedAt };
  };
  return { trpc, model, run, orchestration };
}

function execution(executionId: string) {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
}

describe("where a run's model calls are made", () => {
  it(`keeps the calls of a model that answers quickly in the object, ${INLINE_CALLS} at a time, deciding replies together`, async () => {
    const { model, run } = await setUp(30);
    // The first run teaches this isolate the model's pace (its first calls are the object's own).
    expect((await run()).ended.status).toBe("completed");
    model.reset();
    const decisionsBefore = decisionsTaken();
    const { ended } = await run();

    expect(ended.status).toBe("completed");
    expect(ended.stepLogs.map((log) => log.attempts.length)).toEqual(Array(31).fill(1));
    // Made here: never more than the object's own slots at once (call runners would run them side by side).
    expect(model.seen.widest).toBeLessThanOrEqual(INLINE_CALLS);
    expect([...model.seen.calls.values()].every((count) => count === 1)).toBe(true);
    expect(model.seen.calls.size).toBe(31);
    // 31 replies, decided a few at a time: far fewer decisions (each one save) than replies.
    expect(decisionsTaken() - decisionsBefore).toBeLessThan(20);
  });

  it(`hands a queued call over to a call runner after ${HAND_OVER_AFTER_MS} ms when the model turns slow, using no retry`, async () => {
    const { model, run } = await setUp(30);
    expect((await run()).ended.status).toBe("completed");
    model.reset();
    model.delay.ms = SLOW_MS;
    const { ended, tookMs } = await run();

    expect(ended.status).toBe("completed");
    expect(ended.stepLogs.map((log) => log.attempts.length)).toEqual(Array(31).fill(1));
    expect([...model.seen.calls.values()].every((count) => count === 1)).toBe(true);
    // The 26 queued calls went out side by side once handed over, under the six-connection rule.
    expect(model.seen.widest).toBeGreaterThanOrEqual(26);
    expect(widestGateSeen()).toBeLessThanOrEqual(CONNECTIONS_PER_INVOCATION);
    // Hand-over wait, the fan-out, the join; four at a time would take 8 model times before the join.
    expect(tookMs).toBeLessThan(HAND_OVER_AFTER_MS + 4 * SLOW_MS);
  });

  it("does not make a handed-over call again when the object restarts; its result is committed once", async () => {
    const { trpc, model, run, orchestration } = await setUp(8);
    expect((await run()).ended.status).toBe("completed");
    model.reset();
    // Now every call hangs until released: the four slots fill, the other four are handed over.
    model.delay.hold = true;
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    await waitFor(
      () => Promise.resolve(model.seen.calls.size),
      (size) => size === 8,
      { timeoutMs: 8_000 },
    );
    await runInDurableObject(execution(id), (_, state) => state.abort("restart for the test")).catch(
      () => undefined,
    );
    // Released, then woken: the new instance makes its own cut-off calls again (they would hang otherwise).
    model.delay.hold = false;
    await runDurableObjectAlarm(execution(id));
    const ended = await waitForEnd(trpc, id);

    expect(ended.status).toBe("completed");
    const status = await statusOf(trpc, id);
    expect(status.status).toBe("completed");
    // The object's own four calls were cut off by the restart and made again; the handed-over four were not.
    const counts = [...model.seen.calls.entries()].filter(([step]) => step !== "Join").map(([, n]) => n);
    expect(counts.filter((n) => n === 1)).toHaveLength(4);
    expect(counts.filter((n) => n === 2)).toHaveLength(4);
  });
});
