// Version-1 state under the graph engine (durable-objects/engine/migrate.ts): headers and StepRun records
// convert to v2, and runs that were in flight when the new code shipped finish under it — built by hand
// and from storage the version-1 engine really wrote (test/fixtures/v1-execution-storage.json).
import { describe, expect, it } from "vitest";
import {
  headerFromStored,
  instanceFromStored,
  type RunHeaderV1,
  type StepRunV1,
} from "../../durable-objects/engine/migrate";
import type { JsonValue, Plan, RunState, StepInstance } from "../../durable-objects/engine/types";
import fixtures from "../fixtures/v1-execution-storage.json";
import { EngineDriver, planOf, type Responder, reply, replyJson, scripted } from "../helpers/engine-driver";

const v1Header = (fields: Partial<RunHeaderV1> = {}): RunHeaderV1 => ({
  v: 1,
  status: "running",
  input: { topic: "t" },
  stageCursor: 1,
  seq: 1,
  createdAt: 100,
  startedAt: 100,
  ...fields,
});
const done = (index: number, name: string, output: JsonValue, seq: number): StepRunV1 => ({
  index,
  name,
  status: "completed",
  attempts: [
    {
      attempt: 1,
      runner: "old",
      startedAt: 100,
      deadline: 300_100,
      endedAt: 150,
      input: {},
      outcome: "succeeded",
      output,
    },
  ],
  warnings: [],
  interruptions: 0,
  output,
  completedSeq: seq,
});
const inFlight = (index: number, name: string, runner: string): StepRunV1 => ({
  index,
  name,
  status: "running",
  attempts: [{ attempt: 1, runner, startedAt: 150, deadline: 300_150, input: { from: name } }],
  warnings: [],
  interruptions: 0,
});

/** A run state as the execution store loads it: each stored record through migrate.ts. */
function loaded(header: RunHeaderV1 | RunState["header"], records: (StepRunV1 | StepInstance)[]): RunState {
  const instances = new Map<string, StepInstance>();
  for (const record of records) {
    const instance = instanceFromStored(record);
    instances.set(instance.id, instance);
  }
  return { header: headerFromStored(header), instances };
}

describe("headerFromStored", () => {
  it("drops the stage cursor and marks the header version 2, keeping everything else", () => {
    const stored = v1Header({ finishedAt: 900, error: "boom", output: { x: 1 }, status: "failed" });
    expect(headerFromStored(stored)).toEqual({
      v: 2,
      status: "failed",
      input: { topic: "t" },
      seq: 1,
      createdAt: 100,
      startedAt: 100,
      finishedAt: 900,
      error: "boom",
      output: { x: 1 },
    });
  });

  it("returns a version-2 header as it is", () => {
    const header = { v: 2 as const, status: "running" as const, input: null, seq: 0, createdAt: 1 };
    expect(headerFromStored(header)).toBe(header);
  });
});

describe("instanceFromStored", () => {
  it("turns a StepRun's index into the instance id and keeps its fields", () => {
    const record = done(3, "Review", { ok: true }, 4);
    const { index: _index, ...rest } = record;
    expect(instanceFromStored(record)).toEqual({ ...rest, id: "3" });
  });

  it("gives a running StepRun with an open attempt its call wait", () => {
    expect(instanceFromStored(inFlight(1, "B", "old"))).toMatchObject({
      id: "1",
      status: "running",
      wait: { kind: "call", attempt: 1 },
    });
  });

  it("gives no wait to records without an open call", () => {
    const retrying: StepRunV1 = { ...inFlight(0, "A", "old"), status: "waiting_retry", retryAt: 5000 };
    retrying.attempts = [
      { ...retrying.attempts[0], outcome: "failed", endedAt: 200 } as StepRunV1["attempts"][0],
    ];
    expect(instanceFromStored(retrying).wait).toBeUndefined();
    const pending: StepRunV1 = {
      index: 2,
      name: "C",
      status: "pending",
      attempts: [],
      warnings: [],
      interruptions: 0,
    };
    expect(instanceFromStored(pending)).toEqual({
      id: "2",
      name: "C",
      status: "pending",
      attempts: [],
      warnings: [],
      interruptions: 0,
    });
  });

  it("returns a version-2 instance as it is", () => {
    const instance: StepInstance = {
      id: "1.0.0",
      name: "X",
      status: "pending",
      attempts: [],
      warnings: [],
      interruptions: 0,
    };
    expect(instanceFromStored(instance)).toBe(instance);
  });
});

describe("a version-1 run in flight", () => {
  const steps = [
    { name: "A" },
    { name: "B" },
    { name: "C", inputMapping: { a: "{{context.A}}", b: "{{context.B}}" } },
  ];

  it("takes the reply of the call its own runner still has open, and finishes", () => {
    // Version 1 stored every step, the ones not started too.
    const pendingC: StepRunV1 = {
      index: 2,
      name: "C",
      status: "pending",
      attempts: [],
      warnings: [],
      interruptions: 0,
    };
    const state = loaded(v1Header(), [done(0, "A", "a out", 1), inFlight(1, "B", "runner-1"), pendingC]);
    const run = new EngineDriver(planOf(steps), { run: state, now: 200 });
    run.finish("1", reply("b out"), 1);
    expect(run.openCall("C")?.input).toEqual({ a: "a out", b: "b out" });
    run.drive(scripted({}));
    expect(run.run.header).toMatchObject({ v: 2, status: "completed", output: "C done", seq: 3 });
    expect(run.list().map((instance) => [instance.id, instance.completedSeq])).toEqual([
      ["0", 1],
      ["1", 2],
      ["2", 3],
    ]);
  });

  it("makes the call again when the runner that started it is gone", () => {
    const state = loaded(v1Header(), [done(0, "A", "a out", 1), inFlight(1, "B", "gone")]);
    const run = new EngineDriver(planOf(steps), { run: state, now: 200 });
    const woken = run.wake();
    expect(woken.commands).toEqual([
      { type: "call_model", instance: "1", attempt: 2, input: { from: "B" }, deadline: 200 + 300_000 },
    ]);
    run.drive(scripted({}));
    expect(run.run.header.status).toBe("completed");
    expect(run.instance("B").attempts.map((a) => a.outcome)).toEqual(["interrupted", "succeeded"]);
  });

  it("resumes a version-1 run that failed", () => {
    const failedB: StepRunV1 = {
      ...inFlight(1, "B", "old"),
      status: "failed",
      attempts: [
        {
          ...inFlight(1, "B", "old").attempts[0],
          outcome: "failed",
          endedAt: 160,
        } as StepRunV1["attempts"][0],
      ],
    };
    const cancelledC: StepRunV1 = {
      index: 2,
      name: "C",
      status: "cancelled",
      attempts: [],
      warnings: [],
      interruptions: 0,
    };
    const state = loaded(v1Header({ status: "failed", error: "B broke", finishedAt: 160 }), [
      done(0, "A", "a out", 1),
      failedB,
      cancelledC,
    ]);
    const run = new EngineDriver(planOf(steps), { run: state, now: 500 });
    run.resume();
    run.drive(scripted({}));
    expect(run.run.header).toMatchObject({ status: "completed", resumes: 1 });
    expect(run.instance("B").attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "failed"],
      [2, "succeeded"],
    ]);
  });
});

describe("storage written by the version-1 engine", () => {
  type Situation = { alarm: number | null; entries: Record<string, unknown> };
  const situations = fixtures as unknown as Record<string, Situation>;

  /** The plan and run state an execution object loads from the situation's storage. */
  function load(name: string): { plan: Plan; run: RunState; alarm: number | null } {
    const situation = situations[name];
    if (!situation) throw new Error(`no fixture "${name}"`);
    const { entries } = situation;
    const records = Object.entries(entries)
      .filter(([key]) => key.startsWith("step:"))
      .map(([, value]) => value as StepRunV1);
    return {
      plan: entries.plan as Plan,
      run: loaded(entries.header as RunHeaderV1, records),
      alarm: situation.alarm,
    };
  }

  /** What the fixture's scripted model answered: who replied and what it saw. */
  const echo: Responder = (call) => replyJson({ by: (call.input as { step: string }).step, saw: call.input });

  it("finishes a chain held at B: B is made again by the new runner, then C", () => {
    const { plan, run: state, alarm } = load("chainHeldAtB");
    const run = new EngineDriver(plan, { run: state, now: alarm ?? 0, runner: "new-code" });
    run.drive(echo);
    expect(run.calls.map((call) => [call.name, call.attempt])).toEqual([
      ["B", 2],
      ["C", 1],
    ]);
    const a = { by: "A", saw: { step: "A", topic: "durable execution" } };
    const b = { by: "B", saw: { step: "B", plan: a } };
    expect(run.run.header).toMatchObject({
      v: 2,
      status: "completed",
      output: { by: "C", saw: { step: "C", draft: b } },
    });
  });

  it("finishes a fan-out held at M3: only M3 runs again, then the join sees all ten", () => {
    const { plan, run: state, alarm } = load("fanOutHeldAtM3");
    const run = new EngineDriver(plan, { run: state, now: alarm ?? 0, runner: "new-code" });
    run.drive(echo);
    expect(run.calls.map((call) => call.name)).toEqual(["M3", "Join"]);
    const join = run.callsOf("Join")[0]?.input as { parts: Record<string, { by: string }> } | undefined;
    const parts = join?.parts ?? {};
    expect(Object.values(parts).map((part) => part.by)).toEqual(
      Array.from({ length: 10 }, (_, i) => `M${i}`),
    );
    expect(run.run.header.status).toBe("completed");
  });

  it("retries a step waiting for its retry when its time comes, then carries on", () => {
    const { plan, run: state, alarm } = load("waitingRetry");
    const run = new EngineDriver(plan, { run: state, now: (alarm ?? 0) - 1, runner: "new-code" });
    expect(run.wake().commands).toEqual([]);
    run.at(alarm ?? 0).wake();
    expect(run.openCall("Flaky")).toMatchObject({ attempt: 2, input: { step: "Flaky" } });
    run.drive(echo);
    expect(run.callsOf("After")[0]?.input).toEqual({
      step: "After",
      prior: { by: "Flaky", saw: { step: "Flaky" } },
    });
    expect(run.run.header.status).toBe("completed");
  });

  it("leaves a completed run as it was, with the same context", () => {
    const { plan, run: state } = load("chainCompleted");
    const run = new EngineDriver(plan, { run: state, now: 1 });
    const decision = run.wake();
    expect(decision.commands).toEqual([]);
    expect(decision.changed).toEqual([]);
    expect(run.run.header).toMatchObject({ v: 2, status: "completed" });
    expect(run.context().C).toEqual(run.run.header.output);
  });
});
