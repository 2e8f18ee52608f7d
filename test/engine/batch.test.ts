// The shell's batch fold (durable-objects/batch.ts): events that arrive together and instant replies are
// decided in rounds of one transition each. Its result must be the one deciding every event on its own
// gives (the reference below), whatever the replies say.
import { describe, expect, it } from "vitest";
import { decideBatch, type InstantReply } from "../../durable-objects/batch";
import { decide, decideAll, initialRun } from "../../durable-objects/engine/decide";
import type { Command, EngineEvent, Plan, RunState } from "../../durable-objects/engine/types";
import { planOf, providerError, reply, replyJson, type StepInput } from "../helpers/engine-driver";

const NOW = 10_000;
const RUNNER = "runner-a";

/** Event by event, as the shell did before batching: the behaviour the batch fold must keep. */
function oneByOne(plan: Plan, run: RunState, events: EngineEvent[], instant: InstantReply) {
  const queue = [...events];
  const commands: Command[] = [];
  let state = run;
  for (let event = queue.shift(); event; event = queue.shift()) {
    const decision = decide(plan, state, event, NOW, RUNNER);
    state = decision.run;
    for (const command of decision.commands) {
      const result = command.type === "call_model" ? instant(command) : undefined;
      if (result && command.type === "call_model")
        queue.push({ type: "attempt_finished", step: command.step, attempt: command.attempt, result });
      else commands.push(command);
    }
  }
  return { run: state, commands };
}

const withoutStatus = (commands: readonly Command[]) => commands.filter((c) => c.type !== "status_changed");

function fresh(steps: readonly StepInput[]) {
  const plan = planOf(steps);
  return {
    plan,
    run: initialRun(
      { topic: "t" },
      plan.steps.map((s) => s.name),
      NOW,
    ),
  };
}

const fanOut = (width: number): StepInput[] => [
  ...Array.from({ length: width }, (_, i) => ({ name: `branch ${i}`, parallelGroup: "fan" })),
  { name: "join", inputMapping: { first: "{{context['branch 0']}}" } },
];

describe("decideBatch", () => {
  it("runs a fan-out of 100 and its join to the end in one call when every reply is instant", () => {
    const { plan, run } = fresh(fanOut(100));
    const instant: InstantReply = (call) => replyJson({ step: call.step });
    const batch = decideBatch(plan, run, [{ type: "start" }], NOW, RUNNER, instant);

    expect(batch.run.header.status).toBe("completed");
    expect(batch.run.steps.every((step) => step.status === "completed")).toBe(true);
    expect(batch.run.header.output).toEqual({ step: 100 });
    expect(batch.wakeAt).toBeUndefined();
    expect(batch).toEqual({ ...oneByOne(plan, run, [{ type: "start" }], instant), wakeAt: undefined });
  });

  it("matches deciding one by one when a branch fails midway: the run fails and later replies change nothing", () => {
    const { plan, run } = fresh([
      ...fanOut(10).slice(0, 10),
      { name: "flaky", parallelGroup: "fan", maxRetries: 0 },
      { name: "join" },
    ]);
    const instant: InstantReply = (call) =>
      plan.steps[call.step]?.name === "flaky" ? providerError("down", false) : reply(`ok ${call.step}`);
    const batch = decideBatch(plan, run, [{ type: "start" }], NOW, RUNNER, instant);
    const reference = oneByOne(plan, run, [{ type: "start" }], instant);

    expect(batch.run).toEqual(reference.run);
    expect(batch.run.header.status).toBe("failed");
    expect(batch.run.header.error).toContain('step "flaky" failed');
    expect(batch.run.steps.at(-1)?.status).toBe("cancelled");
    expect(withoutStatus(batch.commands)).toEqual(withoutStatus(reference.commands));
  });

  it("matches deciding one by one when a branch waits for a retry: the join waits too", () => {
    const { plan, run } = fresh([
      { name: "A", parallelGroup: "fan" },
      { name: "B", parallelGroup: "fan", maxRetries: 2, retryDelay: 1000 },
      { name: "join" },
    ]);
    const instant: InstantReply = (call) =>
      plan.steps[call.step]?.name === "B" ? providerError() : reply(`ok ${call.step}`);
    const batch = decideBatch(plan, run, [{ type: "start" }], NOW, RUNNER, instant);

    expect(batch.run).toEqual(oneByOne(plan, run, [{ type: "start" }], instant).run);
    expect(batch.run.steps.map((s) => s.status)).toEqual(["completed", "waiting_retry", "pending"]);
    expect(batch.wakeAt).toBe(batch.run.steps[1]?.retryAt);
  });

  it("outside an alarm, leaves every call that is not instant for the next alarm and answers the rest", () => {
    const { plan, run } = fresh(fanOut(3));
    const instant: InstantReply = (call) => (call.step === 0 ? reply("local") : undefined);
    const batch = decideBatch(plan, run, [{ type: "start" }], NOW, RUNNER, instant, true);

    expect(batch.commands.filter((c) => c.type === "call_model")).toEqual([]);
    expect(batch.run.steps.map((s) => s.status)).toEqual([
      "completed",
      "waiting_retry",
      "waiting_retry",
      "pending",
    ]);
    // Undone, not failed: no attempt is left on the deferred steps, and they start at the next wake.
    expect(batch.run.steps[1]?.attempts).toEqual([]);
    expect(batch.wakeAt).toBe(NOW + 1);
  });

  it("hands calls that must go out back as commands, in step order", () => {
    const { plan, run } = fresh(fanOut(3));
    const batch = decideBatch(plan, run, [{ type: "start" }], NOW, RUNNER, () => undefined);
    expect(batch.commands.filter((c) => c.type === "call_model").map((c) => c.step)).toEqual([0, 1, 2]);
    expect(batch.run.header.status).toBe("running");
  });
});

describe("decideAll", () => {
  it("counts every reply in the batch before checking deadlines, as a single reply is", () => {
    const { plan, run } = fresh(fanOut(2));
    const started = decide(plan, run, { type: "start" }, NOW, RUNNER).run;
    const late = (started.steps[0]?.attempts[0]?.deadline ?? 0) + 1;
    const replies: EngineEvent[] = [0, 1].map((step) => ({
      type: "attempt_finished",
      step,
      attempt: 1,
      result: reply(`reply ${step}`),
    }));

    const decision = decideAll(plan, started, replies, late, RUNNER);
    expect(decision.run.steps.slice(0, 2).map((s) => s.status)).toEqual(["completed", "completed"]);
    expect(decision.run.steps[2]?.status).toBe("running");
    // The join started in the same transition, with both outputs in its context.
    expect(decision.commands.filter((c) => c.type === "call_model")).toEqual([
      expect.objectContaining({ step: 2, input: { first: "reply 0" } }),
    ]);
  });

  it("applies a cancel in the batch to what came before it and ignores the replies after it", () => {
    const { plan, run } = fresh(fanOut(2));
    const started = decide(plan, run, { type: "start" }, NOW, RUNNER).run;
    const finished = (step: number): EngineEvent => ({
      type: "attempt_finished",
      step,
      attempt: 1,
      result: reply(`reply ${step}`),
    });

    const decision = decideAll(
      plan,
      started,
      [finished(0), { type: "cancel", reason: "stop" }, finished(1)],
      NOW + 5,
      RUNNER,
    );
    expect(decision.run.header.status).toBe("cancelled");
    expect(decision.run.steps.map((s) => s.status)).toEqual(["completed", "cancelled", "cancelled"]);
    expect(decision.commands).toContainEqual({ type: "abort", step: 1, attempt: 1, reason: "stop" });
  });
});
