// Sleep steps through the real API and runtime: a duration or an ISO time (a template) the run waits
// for on the object's alarm, holding nothing in memory; a time that is not one fails clearly.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newTenant, type TestClient } from "../helpers/client";
import {
  CallLog,
  flowWith,
  logNamed,
  runAlarmOf,
  startRun,
  statusOf,
  waitForStep,
} from "../helpers/control-flow";
import { waitForEnd } from "../helpers/executions";
import type { StepInput } from "../helpers/runs";

const napBetween = (nap: Partial<Extract<StepInput, { stepType: "sleep" }>>): StepInput[] => [
  { name: "Before", inputMapping: { step: "Before" } },
  { name: "Nap", stepType: "sleep", ...nap },
  { name: "After", inputMapping: { step: "After" } },
];

async function napRun(trpc: TestClient, nap: Parameters<typeof napBetween>[0], input = {}) {
  const calls = new CallLog();
  const orchestration = await flowWith(trpc, napBetween(nap), (step) => `${calls.record(step)} ${step.step}`);
  const id = await startRun(trpc, orchestration.id, input);
  return { id, calls };
}

const startOf = (status: Awaited<ReturnType<typeof statusOf>>, name: string) =>
  Date.parse(logNamed(status, name).attempts[0]?.startedAt ?? "");
const endOf = (status: Awaited<ReturnType<typeof statusOf>>, name: string) =>
  Date.parse(logNamed(status, name).attempts[0]?.endedAt ?? "");

describe("sleep", () => {
  it("waits `duration` ms, then the run goes on; its output says until when it slept", async () => {
    const { trpc } = await newTenant();
    const { id } = await napRun(trpc, { duration: 300 });

    const napping = logNamed(await waitForStep(trpc, id, "Nap", "waiting"), "Nap");
    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    const sleptUntil = Date.parse(
      String((logNamed(status, "Nap").output as { sleptUntil: string }).sleptUntil),
    );
    expect(napping.wait).toEqual({ kind: "timer", until: new Date(sleptUntil).toISOString() });
    expect(sleptUntil - endOf(status, "Before")).toBe(300);
    expect(startOf(status, "After")).toBeGreaterThanOrEqual(sleptUntil);
    expect(logNamed(status, "Nap")).toMatchObject({ status: "completed", stepType: "sleep", attempts: [] });
  });

  it("waits until an ISO time given by a template", async () => {
    const { trpc } = await newTenant();
    const wakeAt = new Date(Date.now() + 500).toISOString();
    const { id } = await napRun(trpc, { until: "{{context.input.wakeAt}}" }, { wakeAt });

    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    // Had Before been slower than the wait (a loaded machine), the sleep would have ended at once.
    const sleptUntil = Math.max(Date.parse(wakeAt), endOf(status, "Before"));
    expect(logNamed(status, "Nap").output).toEqual({ sleptUntil: new Date(sleptUntil).toISOString() });
    expect(startOf(status, "After")).toBeGreaterThanOrEqual(Date.parse(wakeAt));
  });

  it("does not wait for a time that has passed", async () => {
    const { trpc } = await newTenant();
    const { id } = await napRun(trpc, { until: "2020-01-01T00:00:00.000Z" });

    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    const sleptUntil = (logNamed(status, "Nap").output as { sleptUntil: string }).sleptUntil;
    expect(Date.parse(sleptUntil)).toBe(endOf(status, "Before"));
  });

  it.each([
    { until: "{{context.input.when}}", when: "next tuesday", why: 'until "next tuesday" is not an ISO time' },
    { until: "{{context.input.when}}", when: "2999-01-01T00:00:00Z", why: "is more than 30 days away" },
  ])("fails clearly when until is $when", async ({ until, when, why }) => {
    const { trpc } = await newTenant();
    const { id, calls } = await napRun(trpc, { until }, { when });

    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("failed");
    expect(status.error).toContain(`step "Nap" failed: `);
    expect(status.error).toContain(why);
    expect(logNamed(status, "Nap").status).toBe("failed");
    expect(calls.counts).toEqual({ Before: 1 });
  });

  it("sleeps on the object's alarm: a long sleep is not cut short by an early alarm, and a cancel ends it", async () => {
    const { trpc } = await newTenant();
    const { id, calls } = await napRun(trpc, { duration: 3_600_000 });
    const napping = logNamed(await waitForStep(trpc, id, "Nap", "waiting"), "Nap");
    const until = napping.wait?.kind === "timer" ? Date.parse(napping.wait.until ?? "") : Number.NaN;
    const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id));

    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBe(until);
    await runAlarmOf(id);
    expect(logNamed(await statusOf(trpc, id), "Nap").status).toBe("waiting");
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBe(until);

    const cancelled = await trpc.orchestrationManagement.cancel.mutate({ executionId: id });
    expect(logNamed(cancelled, "Nap")).toMatchObject({ status: "cancelled", wait: null });
    expect(calls.counts).toEqual({ Before: 1 });
  });
});
