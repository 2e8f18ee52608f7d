// continueOnError through the real API and runtime: a step that fails for good is recorded (status
// failed, the error in its log, context[name] = { error }) and the run goes on to complete.
import { describe, expect, it } from "vitest";
import { newTenant } from "../helpers/client";
import { CallLog, flowWith, logNamed, logsNamed, runToEnd } from "../helpers/control-flow";
import { providerFailure } from "../helpers/runs";

describe("continueOnError", () => {
  it("on an agent step: records the failure after its retries, and the next step sees { error }", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Flaky",
          continueOnError: true,
          maxRetries: 1,
          retryDelay: 0,
          inputMapping: { step: "Flaky" },
        },
        { name: "Use", inputMapping: { step: "Use", flaky: "{{context.Flaky}}" } },
      ],
      (input) => {
        calls.record(input);
        return input.step === "Flaky" ? providerFailure("flaky broke") : JSON.stringify({ saw: input.flaky });
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    const error = 'step "Flaky" failed after 2 attempts: flaky broke';
    expect(status.status).toBe("completed");
    expect(status.error).toBeNull();
    expect(logNamed(status, "Flaky")).toMatchObject({ status: "failed", continued: true, error });
    expect(logNamed(status, "Flaky").attempts.map((a) => a.status)).toEqual(["failed", "failed"]);
    expect(status.context.Flaky).toEqual({ error });
    expect(status.output).toEqual({ saw: { error } });
    expect(calls.counts).toEqual({ Flaky: 2, Use: 1 });
  });

  it("on a forEach whose items are not an array: failed and continued, the run completes", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          continueOnError: true,
          items: "{{context.input.list}}",
          steps: [{ name: "Do", inputMapping: { step: "Do" } }],
        },
        { name: "Next", inputMapping: { step: "Next", each: "{{context.Each}}" } },
      ],
      (input) => JSON.stringify({ saw: input.each }),
    );

    const status = await runToEnd(trpc, orchestration.id, { list: 42 });

    const error = 'step "Each" failed: items {{context.input.list}} must resolve to an array, got 42';
    expect(status.status).toBe("completed");
    expect(logNamed(status, "Each")).toMatchObject({ status: "failed", continued: true, error });
    expect(status.context.Each).toEqual({ error });
    expect(status.output).toEqual({ saw: { error } });
  });

  it("on a forEach whose item fails: the rest of its items stop, it is recorded as failed, and the run completes", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          continueOnError: true,
          items: [1, 2, 3],
          concurrency: 1,
          steps: [{ name: "Do", inputMapping: { step: "Do", n: "{{item}}" } }],
        },
        { name: "Next", inputMapping: { step: "Next" } },
      ],
      (input) => {
        calls.record(input);
        return input.n === 2 ? providerFailure("two is bad", false) : `ok ${input.n ?? ""}`;
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    const error = 'step "Do" failed after 1 attempt: two is bad';
    expect(status.status).toBe("completed");
    expect(logNamed(status, "Each")).toMatchObject({ status: "failed", continued: true, error });
    expect(status.context.Each).toEqual({ error });
    expect(calls.counts).toEqual({ Do: 2, Next: 1 });
    expect(logsNamed(status, "Do").map((log) => log.status)).toEqual(["completed", "failed"]);
  });

  it("on a step inside a forEach: the item goes on, and the other items are unaffected", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: [1, 2, 3],
          steps: [
            { name: "Try", continueOnError: true, inputMapping: { step: "Try", n: "{{item}}" } },
            { name: "Wrap", inputMapping: { step: "Wrap", tried: "{{context.Try}}" } },
          ],
        },
      ],
      (input) => {
        if (input.step === "Wrap") return JSON.stringify({ wrapped: input.tried });
        return input.n === 2 ? providerFailure("two is bad", false) : `tried ${input.n}`;
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual([
      { wrapped: "tried 1" },
      { wrapped: { error: 'step "Try" failed after 1 attempt: two is bad' } },
      { wrapped: "tried 3" },
    ]);
    expect(logNamed(status, "Each").forEach).toMatchObject({ done: 3, failed: 0 });
    expect(logsNamed(status, "Try").map((log) => [log.status, log.continued])).toEqual([
      ["completed", false],
      ["failed", true],
      ["completed", false],
    ]);
  });

  it("gives { error } as the output of a body (and a run) whose last step failed and continued", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: [1, 2],
          steps: [{ name: "Try", continueOnError: true, inputMapping: { n: "{{item}}" } }],
        },
        { name: "Last", continueOnError: true, inputMapping: { n: 2 } },
      ],
      (input) => (input.n === 2 ? providerFailure("two is bad", false) : "fine"),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(status.context.Each).toEqual(["fine", { error: 'step "Try" failed after 1 attempt: two is bad' }]);
    expect(status.output).toEqual({ error: 'step "Last" failed after 1 attempt: two is bad' });
  });
});
