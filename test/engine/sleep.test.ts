// Sleep steps through the pure scheduler: a durable timer for `duration` ms or `until` an ISO time (a
// template), output `{ sleptUntil }`; an until that is not a time, or is more than 30 days away, fails.
import { describe, expect, it } from "vitest";
import { WAIT_MAX_MS } from "../../durable-objects/engine/limits";
import { EngineDriver, expectNoChange, type StepInput, scripted } from "../helpers/engine-driver";

const iso = (ms: number) => new Date(ms).toISOString();
const sleepThen = (sleep: Partial<Extract<StepInput, { stepType: "sleep" }>>): StepInput[] => [
  { name: "Pause", stepType: "sleep", ...sleep },
  { name: "After" },
];

describe("a sleep step", () => {
  it("waits `duration` ms on a durable timer, then completes and the run goes on", () => {
    const run = new EngineDriver(sleepThen({ duration: 60_000 }), { now: 1000 });
    const started = run.start();
    expect(started.commands).toEqual([{ type: "status_changed", status: "running" }]);
    expect(started.wakeAt).toBe(61_000);
    expect(run.instance("Pause")).toMatchObject({
      status: "waiting",
      wait: { kind: "timer", until: 61_000 },
    });
    expectNoChange(run, () => run.at(60_999).wake());
    run.at(61_000).wake();
    expect(run.instance("Pause")).toMatchObject({ status: "completed", output: { sleptUntil: iso(61_000) } });
    expect(run.openCall("After")?.input).toEqual({
      input: { topic: "test" },
      previous: { Pause: { sleptUntil: iso(61_000) } },
    });
  });

  it("reports the time it was due, not the time it was woken, when the wake comes late", () => {
    const run = new EngineDriver(sleepThen({ duration: 1000 }));
    run.start();
    run.at(90_000).wake();
    expect(run.instance("Pause").output).toEqual({ sleptUntil: iso(1000) });
  });

  it("completes at once for a duration of 0", () => {
    const run = new EngineDriver(sleepThen({ duration: 0 }), { now: 5 });
    run.start();
    expect(run.instance("Pause")).toMatchObject({ status: "completed", output: { sleptUntil: iso(5) } });
  });

  it("sleeps until an ISO time, literal or rendered from a template", () => {
    const literal = new EngineDriver(sleepThen({ until: "1970-01-01T00:01:00.000Z" }));
    expect(literal.start().wakeAt).toBe(60_000);
    const templated = new EngineDriver(sleepThen({ until: "{{context.input.when}}" }), {
      input: { when: iso(120_000) },
    });
    expect(templated.start().wakeAt).toBe(120_000);
    templated.drive(scripted({}));
    expect(templated.instance("Pause").output).toEqual({ sleptUntil: iso(120_000) });
  });

  it("completes at once when until has passed, reporting now", () => {
    const run = new EngineDriver(sleepThen({ until: iso(10) }), { now: 5000 });
    run.start();
    expect(run.instance("Pause")).toMatchObject({ status: "completed", output: { sleptUntil: iso(5000) } });
  });

  it("fails with a clear error when until is not a time", () => {
    // A literal that is not a time is refused at save time; a template can still render one.
    const run = new EngineDriver(sleepThen({ until: "{{context.input.when}}" }), {
      input: { when: "next tuesday" },
    });
    run.start();
    const error = 'step "Pause" failed: until "next tuesday" is not an ISO time';
    expect(run.instance("Pause")).toMatchObject({ status: "failed", error });
    expect(run.run.header).toMatchObject({ status: "failed", error });
  });

  it("fails when until renders to nothing", () => {
    const run = new EngineDriver(sleepThen({ until: "{{context.input.when}}" }));
    run.start();
    expect(run.instance("Pause")).toMatchObject({
      status: "failed",
      error: 'step "Pause" failed: until "" is not an ISO time',
      warnings: ["{{context.input.when}} resolved to nothing; rendered empty"],
    });
  });

  it("fails when until is more than 30 days away", () => {
    const far = iso(WAIT_MAX_MS + 1);
    const run = new EngineDriver(sleepThen({ until: far }));
    run.start();
    expect(run.run.header.error).toBe(`step "Pause" failed: until ${far} is more than 30 days away`);
    const edge = new EngineDriver(sleepThen({ until: iso(WAIT_MAX_MS) }));
    expect(edge.start().wakeAt).toBe(WAIT_MAX_MS);
  });

  it("keeps its timer across a restart and stops when the run is cancelled", () => {
    const run = new EngineDriver(sleepThen({ duration: 10_000 }));
    run.start();
    run.runner = "runner-2";
    expectNoChange(run, () => run.at(5000).wake());
    expect(run.cancel().commands).toEqual([{ type: "status_changed", status: "cancelled" }]);
    expect(run.instance("Pause")).toMatchObject({ status: "cancelled" });
    expect(run.instance("Pause").wait).toBeUndefined();
    expectNoChange(run, () => run.at(10_000).wake());
  });
});
