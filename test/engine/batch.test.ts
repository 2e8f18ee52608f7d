// One decision over several events, and over the model calls an instant responder (the local model)
// answers inline round after round (durable-objects/engine/decide.ts). Its result must be the one deciding
// every event on its own gives (the reference below), whatever the replies say.
import { describe, expect, it } from "vitest";
import { decide, type InstantReply, initialRun } from "../../durable-objects/engine/decide";
import { applyDecision } from "../../durable-objects/engine/transition";
import { nodeOf } from "../../durable-objects/engine/tree";
import type { Command, EngineEvent, Plan, RunState } from "../../durable-objects/engine/types";
import {
  compareIds,
  frozenRun,
  planOf,
  providerError,
  reply,
  replyJson,
  type StepInput,
} from "../helpers/engine-driver";

const NOW = 10_000;
const RUNNER = "runner-a";
const inputs = (now = NOW) => ({ now, runner: RUNNER, newExecutionId: () => "unused" });

/** Event by event, each reply its own decision: the behaviour batching must keep. */
function oneByOne(plan: Plan, run: RunState, events: EngineEvent[], instant: InstantReply = () => undefined) {
  const queue = [...events];
  const commands: Command[] = [];
  let state = run;
  for (let event = queue.shift(); event; event = queue.shift()) {
    const decision = decide(plan, state, [event], inputs());
    state = frozenRun(applyDecision(state, decision));
    for (const command of decision.commands) {
      const result = command.type === "call_model" ? instant(command) : undefined;
      if (result && command.type === "call_model")
        queue.push({
          type: "attempt_finished",
          instance: command.instance,
          attempt: command.attempt,
          result,
        });
      else commands.push(command);
    }
  }
  return { run: state, commands };
}

/** All events in one decision, instant replies inline. */
function together(
  plan: Plan,
  run: RunState,
  events: EngineEvent[],
  options: Parameters<typeof decide>[4] = {},
) {
  const decision = decide(plan, run, events, inputs(), options);
  return { decision, run: frozenRun(applyDecision(run, decision)) };
}

/** A run state as plain data, instances in tree order, for comparing two states. */
const asData = (run: RunState) => ({
  header: run.header,
  instances: [...run.instances.values()].sort((a, b) => compareIds(a.id, b.id)),
});
const withoutStatus = (commands: readonly Command[]) => commands.filter((c) => c.type !== "status_changed");
const statusesOf = (run: RunState) =>
  [...run.instances.values()].sort((a, b) => compareIds(a.id, b.id)).map((i) => [i.id, i.status]);

function fresh(steps: readonly StepInput[]) {
  return { plan: planOf(steps), run: frozenRun(initialRun({ topic: "t" }, NOW)) };
}

const fanOut = (width: number): StepInput[] => [
  ...Array.from({ length: width }, (_, i) => ({ name: `branch ${i}`, parallelGroup: "fan" })),
  { name: "join", inputMapping: { first: "{{context['branch 0']}}" } },
];

describe("instant replies answered inside one decision", () => {
  it("runs a fan-out of 100 and its join to the end in one decision when every reply is instant", () => {
    const { plan, run } = fresh(fanOut(100));
    const instant: InstantReply = (call) => replyJson({ step: call.instance });
    const { decision, run: after } = together(plan, run, [{ type: "start" }], { instant });

    expect(after.header.status).toBe("completed");
    expect([...after.instances.values()].every((instance) => instance.status === "completed")).toBe(true);
    expect(after.instances.size).toBe(101);
    expect(after.header.output).toEqual({ step: "100" });
    expect(decision.wakeAt).toBeUndefined();
    const reference = oneByOne(plan, run, [{ type: "start" }], instant);
    expect(asData(after)).toEqual(asData(reference.run));
    expect(withoutStatus(decision.commands)).toEqual(withoutStatus(reference.commands));
    // One decision reports the one change of status it made, from pending to completed.
    expect(decision.commands).toEqual([{ type: "status_changed", status: "completed" }]);
  });

  it("matches deciding one by one when a branch fails midway: the run fails and later replies change nothing", () => {
    const { plan, run } = fresh([
      ...fanOut(10).slice(0, 10),
      { name: "flaky", parallelGroup: "fan", maxRetries: 0 },
      { name: "join" },
    ]);
    const instant: InstantReply = (call) =>
      nodeOf(plan.steps, call.instance)?.name === "flaky"
        ? providerError("down", false)
        : reply(`ok ${call.instance}`);
    const { decision, run: after } = together(plan, run, [{ type: "start" }], { instant });
    const reference = oneByOne(plan, run, [{ type: "start" }], instant);

    expect(asData(after)).toEqual(asData(reference.run));
    expect(after.header.status).toBe("failed");
    expect(after.header.error).toContain('step "flaky" failed');
    // The join's stage never came up.
    expect(after.instances.has("11")).toBe(false);
    expect(withoutStatus(decision.commands)).toEqual(withoutStatus(reference.commands));
  });

  it("matches deciding one by one when a branch waits for a retry: the join waits too", () => {
    const { plan, run } = fresh([
      { name: "A", parallelGroup: "fan" },
      { name: "B", parallelGroup: "fan", maxRetries: 2, retryDelay: 1000 },
      { name: "join" },
    ]);
    const instant: InstantReply = (call) =>
      call.instance === "1" ? providerError() : reply(`ok ${call.instance}`);
    const { decision, run: after } = together(plan, run, [{ type: "start" }], { instant });

    expect(asData(after)).toEqual(asData(oneByOne(plan, run, [{ type: "start" }], instant).run));
    expect(statusesOf(after)).toEqual([
      ["0", "completed"],
      ["1", "waiting_retry"],
    ]);
    expect(decision.wakeAt).toBe(after.instances.get("1")?.retryAt);
    expect(decision.wakeAt).toBe(NOW + 1000);
  });

  it("hands the calls the shell says to a call runner, recorded so that a restart does not cut them off", () => {
    const { plan, run } = fresh(fanOut(3));
    const instant: InstantReply = (call) => (call.instance === "0" ? reply("local") : undefined);
    const dispatch = (call: { instance: string }) => (call.instance === "2" ? 7 : undefined);
    const { decision, run: after } = together(plan, run, [{ type: "start" }], { instant, dispatch });

    expect(decision.commands.filter((c) => c.type === "call_model")).toEqual([
      {
        type: "call_model",
        instance: "1",
        attempt: 1,
        input: { input: { topic: "t" } },
        deadline: NOW + 300_000,
      },
      {
        type: "call_model",
        instance: "2",
        attempt: 1,
        input: { input: { topic: "t" } },
        deadline: NOW + 300_000,
        runnerIndex: 7,
      },
    ]);
    expect(after.instances.get("1")?.attempts[0]?.runner).toBe(inputs().runner);
    expect(after.instances.get("2")?.attempts[0]?.runner).toBe("dispatched:7");

    // A new instance of the object (another runner) wakes: its own call was cut off, the runner's was not.
    const restarted = decide(plan, after, [{ type: "wake" }], {
      ...inputs(),
      runner: "run_new",
      now: NOW + 5,
    });
    const next = frozenRun(applyDecision(after, restarted));
    // Its own call was cut off and is made again at once, by the new instance.
    expect(next.instances.get("1")?.attempts.map((a) => [a.outcome, a.runner])).toEqual([
      ["interrupted", RUNNER],
      [undefined, "run_new"],
    ]);
    expect(next.instances.get("2")?.attempts.map((a) => a.outcome)).toEqual([undefined]);
    expect(next.instances.get("2")?.wait).toEqual({ kind: "call", attempt: 1 });
  });

  it("hands a call this object queued over to a runner once, recorded; never one that ended or is not its own", () => {
    const { plan, run } = fresh(fanOut(3));
    const { run: started } = together(plan, run, [{ type: "start" }]);
    const handOver = (instance: string, runnerIndex = 4): EngineEvent => ({
      type: "call_handed_over",
      instance,
      attempt: 1,
      runnerIndex,
    });
    const finished: EngineEvent = {
      type: "attempt_finished",
      instance: "0",
      attempt: 1,
      result: reply("ok"),
    };
    const { decision, run: after } = together(plan, started, [finished, handOver("0"), handOver("1")]);

    // Only the open call is handed over: one command for its runner, and its attempt says so.
    expect(decision.commands.filter((c) => c.type === "call_model")).toEqual([
      {
        type: "call_model",
        instance: "1",
        attempt: 1,
        input: { input: { topic: "t" } },
        deadline: NOW + 300_000,
        runnerIndex: 4,
      },
    ]);
    expect(after.instances.get("1")?.attempts[0]?.runner).toBe("dispatched:4");
    expect(after.instances.get("0")?.attempts[0]?.runner).toBe(RUNNER);
    expect(after.instances.get("0")?.status).toBe("completed");

    // Told again (or by another instance of the object), nothing changes: it is a runner's call now.
    const again = together(plan, after, [handOver("1", 9)]);
    expect(again.decision.commands.filter((c) => c.type === "call_model")).toEqual([]);
    expect(again.run.instances.get("1")?.attempts[0]?.runner).toBe("dispatched:4");
    // A new instance of the object is not the one that queued it: the call was cut off, not handed over.
    const elsewhere = decide(plan, after, [handOver("2")], { ...inputs(), runner: "run_new" });
    const calls = elsewhere.commands.filter((c) => c.type === "call_model");
    expect(calls.map((c) => [c.instance, c.attempt, c.runnerIndex])).toEqual([["2", 2, undefined]]);
  });

  it("hands calls that must go out back as commands, in step order", () => {
    const { plan, run } = fresh(fanOut(3));
    const { decision, run: after } = together(plan, run, [{ type: "start" }], { instant: () => undefined });
    expect(decision.commands.filter((c) => c.type === "call_model").map((c) => c.instance)).toEqual([
      "0",
      "1",
      "2",
    ]);
    expect(after.header.status).toBe("running");
  });
});

describe("several events in one decision", () => {
  const started = (plan: Plan, run: RunState) =>
    frozenRun(applyDecision(run, decide(plan, run, [{ type: "start" }], inputs())));
  const finished = (instance: string, text = `reply ${instance}`): EngineEvent => ({
    type: "attempt_finished",
    instance,
    attempt: 1,
    result: reply(text),
  });

  it("counts every reply in the batch before checking deadlines, as a single reply is", () => {
    const { plan, run } = fresh(fanOut(2));
    const running = started(plan, run);
    const late = (running.instances.get("0")?.attempts[0]?.deadline ?? 0) + 1;

    const decision = decide(plan, running, [finished("0"), finished("1")], inputs(late));
    const after = applyDecision(running, decision);
    expect(statusesOf(after)).toEqual([
      ["0", "completed"],
      ["1", "completed"],
      ["2", "running"],
    ]);
    // The join started in the same transition, with both outputs in its context.
    expect(decision.commands.filter((c) => c.type === "call_model")).toEqual([
      expect.objectContaining({ instance: "2", input: { first: "reply 0" } }),
    ]);
  });

  it("applies a cancel in the batch to what came before it and ignores the replies after it", () => {
    const { plan, run } = fresh(fanOut(2));
    const running = started(plan, run);
    const decision = decide(
      plan,
      running,
      [finished("0"), { type: "cancel", reason: "stop" }, finished("1")],
      inputs(NOW + 5),
    );
    const after = applyDecision(running, decision);
    expect(after.header.status).toBe("cancelled");
    expect(statusesOf(after)).toEqual([
      ["0", "completed"],
      ["1", "cancelled"],
    ]);
    expect(decision.commands).toContainEqual({ type: "abort", instance: "1", attempt: 1, reason: "stop" });
  });

  it("gives the state deciding the events one at a time gives: replies out of order, duplicates, stale attempts", () => {
    const { plan, run } = fresh([
      ...fanOut(4).slice(0, 4),
      { name: "retry me", parallelGroup: "fan", maxRetries: 1, retryDelay: 0 },
      { name: "join", inputMapping: { all: "{{context['branch 3']}} {{context['branch 0']}}" } },
    ]);
    const running = started(plan, run);
    const events: EngineEvent[] = [
      finished("3"),
      finished("3", "duplicate"),
      { type: "wake" },
      finished("0"),
      { type: "attempt_finished", instance: "4", attempt: 1, result: providerError() },
      finished("4", "stale first attempt"),
      finished("2"),
      finished("1"),
      finished("9", "unknown instance"),
      finished("5", "not started"),
    ];
    const { decision, run: after } = together(plan, running, events);
    const reference = oneByOne(plan, running, events);
    expect(asData(after)).toEqual(asData(reference.run));
    expect(withoutStatus(decision.commands)).toEqual(withoutStatus(reference.commands));
    expect(after.instances.get("3")?.output).toBe("reply 3");
    expect(after.instances.get("4")).toMatchObject({ status: "running", wait: { kind: "call", attempt: 2 } });
    expect(after.instances.has("5")).toBe(false);

    // (A batch holds what happened before it was decided: never a reply to a call this decision makes.)
    const last = [
      { type: "attempt_finished", instance: "4", attempt: 2, result: reply("second") },
      finished("4", "duplicate"),
    ] satisfies EngineEvent[];
    const end = together(plan, after, last);
    expect(asData(end.run)).toEqual(asData(oneByOne(plan, after, last).run));
    expect(end.decision.commands).toEqual([
      expect.objectContaining({ type: "call_model", instance: "5", input: { all: "reply 3 reply 0" } }),
    ]);
  });
});
