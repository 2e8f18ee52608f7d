import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../durable-objects/engine/retry";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { JsonValue } from "../../worker/schemas/common";
import type { StepDefinition } from "../../worker/schemas/orchestration";
import { newTenant, type TestClient } from "../helpers/client";
import { countRows, rowsOf } from "../helpers/db";
import { waitFor, waitForEnd } from "../helpers/executions";
import {
  barrier,
  gate,
  msBetween,
  orchestrationWith,
  providerFailure,
  type StepInput,
  stepInputOf,
  untilAborted,
} from "../helpers/runs";

const statusOf = (trpc: TestClient, executionId: string) =>
  trpc.orchestrationManagement.getExecutionStatus.query({ executionId }) as Promise<ExecutionStatus>;

async function runToEnd(trpc: TestClient, orchestrationId: string, input: Record<string, JsonValue> = {}) {
  const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId, input });
  return waitForEnd(trpc, id);
}

const attemptsOf = (status: ExecutionStatus, step = 0) => status.stepLogs[step]?.attempts ?? [];

/** Milliseconds from the end of each attempt to the start of the next. */
const gapsBetween = (attempts: ReturnType<typeof attemptsOf>) =>
  attempts.slice(1).map((next, i) => msBetween(attempts[i]?.endedAt, next.startedAt));

describe("retries", () => {
  it("retries a failing model after retryDelay until it succeeds", async () => {
    const { trpc } = await newTenant();
    let calls = 0;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Flaky", maxRetries: 2, retryDelay: 50 }],
      () => {
        calls += 1;
        return calls <= 2 ? providerFailure(`overloaded (call ${calls})`) : "finally";
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(status.output).toBe("finally");
    const attempts = attemptsOf(status);
    expect(attempts.map((a) => [a.attempt, a.status, a.error])).toEqual([
      [1, "failed", "overloaded (call 1)"],
      [2, "failed", "overloaded (call 2)"],
      [3, "succeeded", null],
    ]);
    for (const gap of gapsBetween(attempts)) expect(gap).toBeGreaterThanOrEqual(50);
  });

  it("retries through a later alarm when the delay is too long to wait for in the same one", async () => {
    const { trpc } = await newTenant();
    let calls = 0;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Patient", maxRetries: 1, retryDelay: 2500 }],
      () => (++calls === 1 ? providerFailure("not yet") : "now"),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(attemptsOf(status).map((a) => a.status)).toEqual(["failed", "succeeded"]);
    expect(gapsBetween(attemptsOf(status))[0]).toBeGreaterThanOrEqual(2500);
  });

  it("waits at least retryAfterMs when the provider asks for it", async () => {
    const { trpc } = await newTenant();
    let calls = 0;
    const rateLimited = {
      ok: false as const,
      error: { kind: "rate_limited" as const, message: "slow down", retryable: true, retryAfterMs: 300 },
    };
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Limited", maxRetries: 1, retryDelay: 10 }],
      () => (++calls === 1 ? rateLimited : "ok"),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(attemptsOf(status)[0]).toMatchObject({
      status: "failed",
      errorKind: "rate_limited",
      error: "slow down",
    });
    expect(gapsBetween(attemptsOf(status))[0]).toBeGreaterThanOrEqual(300);
  });

  it("does not retry a failure marked not retryable", async () => {
    const { trpc } = await newTenant();
    let calls = 0;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Refused", maxRetries: 3, retryDelay: 0 }],
      () => {
        calls += 1;
        return providerFailure("invalid api key", false);
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("failed");
    expect(status.error).toBe('step "Refused" failed after 1 attempt: invalid api key');
    expect(calls).toBe(1);
  });

  it("treats a model call that throws as a retryable failure", async () => {
    const { trpc } = await newTenant();
    let calls = 0;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Shaky", maxRetries: 1, retryDelay: 0 }],
      () => {
        if (++calls === 1) throw new Error("socket hang up");
        return "recovered";
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(attemptsOf(status)[0]).toMatchObject({
      status: "failed",
      error: "model call failed: socket hang up",
    });
  });

  it("backs off exponentially with retryBackoff exponential", async () => {
    const { trpc } = await newTenant();
    const step = { name: "Backoff", maxRetries: 3, retryDelay: 40, retryBackoff: "exponential" as const };
    let calls = 0;
    const failure = providerFailure("try later");
    const { orchestration } = await orchestrationWith(trpc, [step], () => (++calls <= 3 ? failure : "ok"));

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    const attempts = attemptsOf(status);
    expect(attempts.map((a) => a.status)).toEqual(["failed", "failed", "failed", "succeeded"]);
    const definition: StepDefinition = { ...step, timeout: 300_000, outputFormat: "auto" };
    const planned = [1, 2, 3].map((retry) =>
      retryDelayMs(definition, retry, `${status.id}:0`, failure.error),
    );
    // base·2^(n-1) with jitter in [50%, 100%]: each planned delay is at least half its exponential base.
    expect(planned.map((delay, i) => delay >= 20 * 2 ** i && delay <= 40 * 2 ** i)).toEqual([
      true,
      true,
      true,
    ]);
    const gaps = gapsBetween(attempts);
    for (const [i, gap] of gaps.entries())
      expect(gap).toBeGreaterThanOrEqual(planned[i] ?? Number.POSITIVE_INFINITY);
    expect(gaps[2]).toBeGreaterThanOrEqual(80);
  });

  it("fails the run when a step runs out of attempts, cancelling running siblings and every later stage", async () => {
    const { trpc } = await newTenant();
    const hold = gate<string>();
    const calls: Record<string, number> = {};
    let siblingSawAbort = false;
    let siblingReturned = false;
    const { orchestration } = await orchestrationWith(
      trpc,
      [
        {
          name: "Doomed",
          parallelGroup: "g",
          maxRetries: 1,
          retryDelay: 10,
          inputMapping: { step: "Doomed" },
        },
        { name: "Sibling", parallelGroup: "g", inputMapping: { step: "Sibling" } },
        { name: "Later", inputMapping: { step: "Later" } },
      ],
      async (call) => {
        const step = String(stepInputOf(call).step);
        calls[step] = (calls[step] ?? 0) + 1;
        if (step === "Doomed") return providerFailure(`upstream 503 (call ${calls[step]})`);
        if (step !== "Sibling") return "later ran";
        // Blocked on a promise that ignores the signal: the engine must not wait for it.
        call.signal.addEventListener("abort", () => {
          siblingSawAbort = true;
        });
        const reply = await hold.promise;
        siblingReturned = true;
        return reply;
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("failed");
    expect(status.error).toBe('step "Doomed" failed after 2 attempts: upstream 503 (call 2)');
    expect(status.stepLogs.map((log) => [log.name, log.status, log.attempts.map((a) => a.status)])).toEqual([
      ["Doomed", "failed", ["failed", "failed"]],
      ["Sibling", "cancelled", ["cancelled"]],
      ["Later", "cancelled", []],
    ]);
    expect(status.stepLogs[1]?.reason).toContain('step "Doomed" failed');
    expect(siblingSawAbort).toBe(true);
    expect(calls).toEqual({ Doomed: 2, Sibling: 1 });

    // The sibling's late reply changes nothing.
    hold.open("too late");
    await waitFor(
      async () => siblingReturned,
      (returned) => returned,
    );
    expect(await statusOf(trpc, status.id)).toEqual(status);
  });

  it("fails an attempt whose reply is not JSON when outputFormat is json, and retries it", async () => {
    const { trpc } = await newTenant();
    const replies = ["Sure! Here it is: {score: 1}", '{"score": 1}'];
    const asked: { json: boolean; system: string }[] = [];
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Score", outputFormat: "json", maxRetries: 1, retryDelay: 0 }],
      ({ request }) => {
        asked.push({ json: request.json, system: request.messages[0]?.content ?? "" });
        return replies[asked.length - 1] ?? "unexpected call";
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual({ score: 1 });
    const [first, second] = attemptsOf(status);
    expect(first).toMatchObject({
      status: "failed",
      errorKind: "invalid_output",
      output: "Sure! Here it is: {score: 1}",
    });
    expect(first?.error).toContain("requires JSON");
    expect(second).toMatchObject({ status: "succeeded", output: { score: 1 } });
    expect(asked.every((call) => call.json && call.system.includes("JSON"))).toBe(true);
  });
});

describe("timeouts", () => {
  it.each([
    { model: "listens to its abort signal", listens: true },
    { model: "ignores its abort signal", listens: false },
  ])("times out an attempt that outlives the step's timeout when the model $model", async ({ listens }) => {
    const { trpc } = await newTenant();
    const never = gate<string>();
    let abortedAfterMs: number | undefined;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Slow", timeout: 1000 }],
      ({ signal }) => {
        const startedAt = Date.now();
        signal.addEventListener("abort", () => {
          abortedAfterMs = Date.now() - startedAt;
        });
        return listens ? untilAborted(signal) : never.promise;
      },
    );

    const status = await runToEnd(trpc, orchestration.id);
    never.open("much too late");

    expect(status.status).toBe("failed");
    expect(status.error).toBe('step "Slow" failed after 1 attempt: attempt timed out after 1000 ms');
    const [attempt] = attemptsOf(status);
    expect(attempt).toMatchObject({ status: "timed_out", errorKind: "timeout" });
    expect(attempt?.durationMs).toBeGreaterThanOrEqual(1000);
    expect(abortedAfterMs).toBeGreaterThanOrEqual(900);
  });

  it("retries a timed-out attempt when retries remain", async () => {
    const { trpc } = await newTenant();
    let calls = 0;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Slow once", timeout: 1000, maxRetries: 1, retryDelay: 0 }],
      ({ signal }) => (++calls === 1 ? untilAborted(signal) : "second try"),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(attemptsOf(status).map((a) => a.status)).toEqual(["timed_out", "succeeded"]);
    expect(status.output).toBe("second try");
  });
});

describe("conditions and templates", () => {
  const facts = { score: 7, label: "alpha-2", tags: ["red", "blue"], tier: "gold" };
  type Check = [name: string, condition: NonNullable<StepInput["condition"]>, runs: boolean];
  const checks: Check[] = [
    ["== runs", { field: "facts.tier", operator: "==", value: "gold" }, true],
    ["== skips", { field: "facts.tier", operator: "==", value: "silver" }, false],
    ["!= runs", { field: "facts.tier", operator: "!=", value: "silver" }, true],
    ["!= skips", { field: "facts.tier", operator: "!=", value: "gold" }, false],
    ["> runs", { field: "facts.score", operator: ">", value: 5 }, true],
    ["> skips", { field: "facts.score", operator: ">", value: 10 }, false],
    ["contains runs", { field: "facts.tags", operator: "contains", value: "red" }, true],
    ["contains skips", { field: "facts.label", operator: "contains", value: "beta" }, false],
    ["in runs", { field: "facts.tier", operator: "in", value: ["gold", "platinum"] }, true],
    ["in skips", { field: "facts.score", operator: "in", value: [1, 2, 3] }, false],
    ["matches runs", { field: "facts.label", operator: "matches", value: "^alpha-\\d$" }, true],
    ["matches skips", { field: "facts.label", operator: "matches", value: "^beta" }, false],
    ["not_exists runs", { field: "facts.missing", operator: "not_exists" }, true],
    ["not_exists skips", { field: "facts.tier", operator: "not_exists" }, false],
  ];

  it("runs or skips each step by its condition, logging why it skipped", async () => {
    const { trpc } = await newTenant();
    const { orchestration } = await orchestrationWith(
      trpc,
      [
        { name: "Facts", outputMapping: { facts: "{{output}}" } },
        ...checks.map(([name, condition]) => ({ name, condition, parallelGroup: "checks" })),
      ],
      ({ request }) =>
        request.messages.at(-1)?.content.includes("previous") ? "checked" : JSON.stringify(facts),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    const logs = status.stepLogs.slice(1);
    expect(logs.map((log) => [log.name, log.status])).toEqual(
      checks.map(([name, , runs]) => [name, runs ? "completed" : "skipped"]),
    );
    for (const [index, [, condition, runs]] of checks.entries()) {
      const log = logs[index];
      expect(log?.warnings).toEqual([]);
      if (runs) continue;
      expect(log?.attempts).toEqual([]);
      expect(log?.reason).toMatch(
        new RegExp(`^condition ${condition.field} \\(.*\\) ${condition.operator} .* is false$`),
      );
    }
    expect(logs[5]?.reason).toBe("condition facts.score (7) > 10 is false");
  });

  it("skips with a warning when the condition compares values of different types", async () => {
    const { trpc } = await newTenant();
    const { orchestration } = await orchestrationWith(
      trpc,
      [
        { name: "Facts", outputMapping: { facts: "{{output}}" } },
        { name: "Mismatch", condition: { field: "facts.label", operator: ">", value: 3 } },
      ],
      () => JSON.stringify(facts),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    const mismatch = status.stepLogs[1];
    expect(mismatch).toMatchObject({ status: "skipped", attempts: [] });
    expect(mismatch?.reason).toContain("the types cannot be compared");
    expect(mismatch?.warnings).toEqual([expect.stringContaining("type mismatch")]);
  });

  it("renders a template whose path resolves to nothing as empty, with a warning in stepLogs", async () => {
    const { trpc } = await newTenant();
    const { orchestration } = await orchestrationWith(
      trpc,
      [
        {
          name: "Gappy",
          inputMapping: {
            topic: "{{context.input.topic}}",
            missing: "{{context.nothing.here}}",
            sentence: "about {{context.input.absent}}!",
          },
        },
      ],
      (call) => JSON.stringify(stepInputOf(call)),
    );

    const status = await runToEnd(trpc, orchestration.id, { topic: "owls" });

    expect(status.status).toBe("completed");
    const [attempt] = attemptsOf(status);
    expect(attempt?.input).toEqual({ topic: "owls", missing: "", sentence: "about !" });
    expect(status.stepLogs[0]?.warnings).toEqual([
      "{{context.nothing.here}} resolved to nothing; rendered empty",
      "{{context.input.absent}} resolved to nothing; rendered empty",
    ]);
  });
});

describe("cancel", () => {
  it("cancels a long run: the running step is cancelled and nothing later starts", async () => {
    const { trpc, tenant } = await newTenant();
    const hold = gate<string>();
    const calls: string[] = [];
    let sawAbort = false;
    let returned = false;
    const { orchestration } = await orchestrationWith(
      trpc,
      [
        { name: "Long", inputMapping: { step: "Long" } },
        { name: "After", inputMapping: { step: "After" } },
      ],
      async (call) => {
        calls.push(String(stepInputOf(call).step));
        call.signal.addEventListener("abort", () => {
          sawAbort = true;
        });
        const reply = await hold.promise;
        returned = true;
        return reply;
      },
    );
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    await waitFor(
      () => statusOf(trpc, id),
      (status) => status.stepLogs[0]?.status === "running",
    );

    const cancelled = await trpc.orchestrationManagement.cancel.mutate({ executionId: id });

    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.error).toContain("cancelled by user:");
    expect(cancelled.finishedAt).not.toBeNull();
    expect(
      cancelled.stepLogs.map((log) => [log.name, log.status, log.attempts.map((a) => a.status)]),
    ).toEqual([
      ["Long", "cancelled", ["cancelled"]],
      ["After", "cancelled", []],
    ]);
    expect(sawAbort).toBe(true);
    await waitFor(
      () => rowsOf("executions", "id = ?", id),
      (rows) => rows[0]?.status === "cancelled",
    );

    // The model call replying after the cancel changes nothing, and no later step starts.
    hold.open("late");
    await waitFor(
      async () => returned,
      (done) => done,
    );
    expect(await statusOf(trpc, id)).toEqual(cancelled);
    expect(calls).toEqual(["Long"]);
    expect(await trpc.orchestrationManagement.cancel.mutate({ executionId: id })).toEqual(cancelled);
    expect(await countRows("executions", "tenant_id = ? and status = 'cancelled'", tenant.id)).toBe(1);
  });

  it("cancels a run waiting to retry, and the retry never starts", async () => {
    const { trpc } = await newTenant();
    let calls = 0;
    const { orchestration } = await orchestrationWith(
      trpc,
      [{ name: "Flaky", maxRetries: 3, retryDelay: 60_000 }],
      () => {
        calls += 1;
        return providerFailure("overloaded");
      },
    );
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const waiting = await waitFor(
      () => statusOf(trpc, id),
      (status) => status.stepLogs[0]?.waitingForRetry === true,
    );
    expect(waiting.stepLogs[0]).toMatchObject({
      status: "running",
      attempts: [{ status: "failed", error: "overloaded" }],
    });
    expect(msBetween(waiting.stepLogs[0]?.attempts[0]?.endedAt, waiting.stepLogs[0]?.retryAt)).toBe(60_000);

    const cancelled = await trpc.orchestrationManagement.cancel.mutate({ executionId: id });

    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.stepLogs[0]).toMatchObject({
      status: "cancelled",
      waitingForRetry: false,
      retryAt: null,
    });
    expect(cancelled.stepLogs[0]?.attempts.map((a) => a.status)).toEqual(["failed"]);
    expect(calls).toBe(1);
  });

  it.each([
    { outcome: "completed", reply: () => "done" },
    { outcome: "failed", reply: () => providerFailure("broken", false) },
  ])("leaves a $outcome run unchanged when asked to cancel it", async ({ outcome, reply }) => {
    const { trpc } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Quick" }], reply);
    const finished = await runToEnd(trpc, orchestration.id);
    expect(finished.status).toBe(outcome);

    const afterCancel = await trpc.orchestrationManagement.cancel.mutate({ executionId: finished.id });

    expect(afterCancel).toEqual(finished);
    expect(await statusOf(trpc, finished.id)).toEqual(finished);
    expect((await rowsOf("executions", "id = ?", finished.id))[0]?.status).toBe(outcome);
  });
});

describe("parallel groups", () => {
  it("runs the steps of a parallel group at the same time", async () => {
    const { trpc } = await newTenant();
    const allStarted = barrier(3);
    const { orchestration } = await orchestrationWith(
      trpc,
      ["A", "B", "C"].map((name) => ({ name, parallelGroup: "together", inputMapping: { name } })),
      async (call) => {
        await allStarted();
        return `done ${stepInputOf(call).name}`;
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    const windows = status.stepLogs.map((log) => log.attempts[0]);
    const latestStart = Math.max(...windows.map((w) => Date.parse(w?.startedAt ?? "")));
    const earliestEnd = Math.min(...windows.map((w) => Date.parse(w?.endedAt ?? "")));
    expect(latestStart).toBeLessThanOrEqual(earliestEnd);
    expect(status.output).toEqual({ A: "done A", B: "done B", C: "done C" });
  });

  it("starts a 100-step parallel group in one wake-up and hands all 100 outputs to the join", async () => {
    const { trpc } = await newTenant();
    const names = Array.from({ length: 100 }, (_, i) => `Part ${String(i).padStart(3, "0")}`);
    const allStarted = barrier(names.length);
    const { orchestration } = await orchestrationWith(
      trpc,
      [
        ...names.map((name) => ({ name, parallelGroup: "fan", inputMapping: { part: name } })),
        { name: "Join" },
      ],
      async (call) => {
        const input = stepInputOf(call);
        if (typeof input.part !== "string")
          return JSON.stringify({ received: Object.keys(input.previous ?? {}).length });
        await allStarted();
        return `out of ${input.part}`;
      },
    );

    const status = await runToEnd(trpc, orchestration.id, { topic: "fan-out" });

    expect(status.status).toBe("completed");
    const fan = status.stepLogs.slice(0, 100);
    expect(fan.every((log) => log.status === "completed" && log.attempts.length === 1)).toBe(true);
    const starts = fan.map((log) => Date.parse(log.attempts[0]?.startedAt ?? ""));
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThanOrEqual(5);
    const join = status.stepLogs[100];
    expect(join?.attempts[0]?.input).toEqual({
      input: { topic: "fan-out" },
      previous: Object.fromEntries(names.map((name) => [name, `out of ${name}`])),
    });
    expect(status.output).toEqual({ received: 100 });
  });

  it("completes 200 concurrent executions of a 5-step orchestration, none lost and none duplicated", async () => {
    const { trpc, tenant } = await newTenant();
    const stepNames = ["S1", "S2", "S3", "S4", "S5"];
    const calls = new Map<string, number>();
    const { orchestration } = await orchestrationWith(
      trpc,
      stepNames.map((name) => ({ name, inputMapping: { n: "{{context.input.n}}", step: name } })),
      (call) => {
        const { n, step } = stepInputOf(call);
        const key = `${n}:${step}`;
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return `${step} of ${n}`;
      },
    );

    const started = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id, input: { n } }),
      ),
    );
    await waitFor(
      () => countRows("executions", "tenant_id = ? and status = 'completed'", tenant.id),
      (completed) => completed === 200,
      { timeoutMs: 30_000, everyMs: 25 },
    );

    const ids = started.map((execution) => execution.id);
    expect(new Set(ids).size).toBe(200);
    const rows = await rowsOf("executions", "tenant_id = ?", tenant.id);
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    const statuses = await Promise.all(ids.map((id) => statusOf(trpc, id)));
    statuses.forEach((status, n) => {
      expect(status.status).toBe("completed");
      expect(status.input).toEqual({ n });
      expect(status.stepLogs.map((log) => log.attempts.map((a) => a.status))).toEqual(
        stepNames.map(() => ["succeeded"]),
      );
      expect(status.output).toBe(`S5 of ${n}`);
    });
    expect(calls.size).toBe(1000);
    expect([...calls.values()].every((count) => count === 1)).toBe(true);
  }, 40_000);
});
