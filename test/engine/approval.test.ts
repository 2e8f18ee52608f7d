// Approval steps through the pure scheduler: a durable wait with a rendered message and a deadline,
// decided by an approval event (output `{ approved, comment, data, by, at }`) or by its timeout
// (onTimeout fail | approve | reject); and approvalTarget, which picks the waiting instance a request
// is for or refuses it with a code.
import { describe, expect, it } from "vitest";
import { approvalTarget } from "../../durable-objects/engine/approval";
import { APPROVAL_DEFAULT_TIMEOUT_MS } from "../../durable-objects/engine/limits";
import { EngineDriver, expectNoChange, reply, type StepInput, scripted } from "../helpers/engine-driver";

const DAY_MS = 86_400_000;

const gated = (fields: Partial<Extract<StepInput, { stepType: "approval" }>> = {}): StepInput[] => [
  { name: "Draft" },
  {
    name: "Sign-off",
    stepType: "approval",
    message: "Publish {{context.Draft}}?",
    timeout: DAY_MS,
    ...fields,
  },
  { name: "Publish", condition: { field: "['Sign-off'].approved", operator: "==", value: true } },
];

/** Runs Draft at t=100, leaving Sign-off waiting. */
function waiting(fields: Parameters<typeof gated>[0] = {}) {
  const run = new EngineDriver(gated(fields));
  run.start();
  run.at(100).finish("Draft", reply("the post"));
  return run;
}

describe("an approval step", () => {
  it("waits with its rendered message until its deadline, asking for nothing", () => {
    const run = new EngineDriver(gated());
    run.start();
    const decision = run.at(100).finish("Draft", reply("the post"));
    expect(decision.commands).toEqual([]);
    expect(decision.wakeAt).toBe(100 + DAY_MS);
    expect(run.instance("Sign-off")).toMatchObject({
      id: "1",
      status: "waiting",
      attempts: [],
      wait: { kind: "approval", since: 100, deadline: 100 + DAY_MS, message: "Publish the post?" },
    });
    expectNoChange(run, () => run.at(100 + DAY_MS - 1).wake());
  });

  it("waits 7 days by default, with no message when none is set", () => {
    const run = new EngineDriver([{ name: "Gate", stepType: "approval" }]);
    expect(run.start().wakeAt).toBe(APPROVAL_DEFAULT_TIMEOUT_MS);
    expect(run.instance("Gate").wait).toEqual({
      kind: "approval",
      since: 0,
      deadline: 7 * DAY_MS,
      message: null,
    });
  });

  it("shows a message that renders to a value other than text as JSON", () => {
    const run = new EngineDriver([
      { name: "Plan" },
      { name: "Gate", stepType: "approval", message: "{{context.Plan}}" },
    ]);
    run.start();
    run.finish("Plan", reply('{"tasks": ["a", "b"]}'));
    expect(run.instance("Gate").wait).toMatchObject({ message: '{"tasks":["a","b"]}' });
  });

  it("completes with the decision when approved, and later steps can use it", () => {
    const run = waiting();
    run.at(5000).approve("Sign-off", true, { comment: "ship it", data: { channel: "blog" }, by: "user:ada" });
    const decision = {
      approved: true,
      comment: "ship it",
      data: { channel: "blog" },
      by: "user:ada",
      at: "1970-01-01T00:00:05.000Z",
    };
    expect(run.instance("Sign-off")).toMatchObject({
      status: "completed",
      output: decision,
      reason: "approved by user:ada",
    });
    expect(run.instance("Sign-off").wait).toBeUndefined();
    expect(run.openCall("Publish")).toBeDefined();
    expect(run.context()["Sign-off"]).toEqual(decision);
  });

  it("completes with approved false when rejected, so a condition can skip what follows", () => {
    const run = waiting();
    run.reject("Sign-off", { comment: "not yet", by: "apiKey:k1" });
    expect(run.instance("Sign-off")).toMatchObject({
      status: "completed",
      output: { approved: false, comment: "not yet", data: null, by: "apiKey:k1" },
      reason: "rejected by apiKey:k1",
    });
    expect(run.instance("Publish").status).toBe("skipped");
    expect(run.run.header.status).toBe("completed");
  });

  it("fails at its deadline by default (onTimeout fail), failing the run", () => {
    const run = waiting();
    const failed = run.at(100 + DAY_MS).wake();
    expect(failed.commands).toEqual([{ type: "status_changed", status: "failed" }]);
    const error = `step "Sign-off" failed: no approval within ${DAY_MS} ms`;
    expect(run.instance("Sign-off")).toMatchObject({ status: "failed", error });
    expect(run.run.header).toMatchObject({ status: "failed", error });
  });

  it.each([
    ["approve", true, "Publish done"],
    ["reject", false, null],
  ] as const)("decides itself at its deadline with onTimeout %s", (onTimeout, approved, published) => {
    const run = waiting({ onTimeout });
    run.drive(scripted({}));
    expect(run.instance("Sign-off")).toMatchObject({
      status: "completed",
      output: {
        approved,
        comment: null,
        data: null,
        by: "timeout",
        at: new Date(100 + DAY_MS).toISOString(),
      },
      reason: `${approved ? "approved" : "rejected"} on timeout after ${DAY_MS} ms`,
    });
    expect(run.find("Publish")?.output ?? null).toBe(published);
    expect(run.run.header.status).toBe("completed");
  });

  it("ignores a decision for an approval that is no longer waiting", () => {
    const run = waiting();
    run.approve("Sign-off");
    expectNoChange(run, () =>
      run.send({
        type: "approval",
        instance: "1",
        decision: run.approvalDecision(false, { by: "user:late" }),
      }),
    );
    expect(run.instance("Sign-off").output).toMatchObject({ approved: true });
  });

  it("ignores a decision for an instance that is not an approval wait", () => {
    const run = waiting();
    expectNoChange(run, () =>
      run.send({ type: "approval", instance: "0", decision: run.approvalDecision(true) }),
    );
    expectNoChange(run, () =>
      run.send({ type: "approval", instance: "7", decision: run.approvalDecision(true) }),
    );
  });

  it("stops waiting when the run is cancelled, and is not decided afterwards", () => {
    const run = waiting();
    expect(run.cancel("no longer needed").commands).toEqual([
      { type: "status_changed", status: "cancelled" },
    ]);
    expect(run.instance("Sign-off")).toMatchObject({ status: "cancelled", reason: "no longer needed" });
    expect(run.instance("Sign-off").wait).toBeUndefined();
    expectNoChange(run, () =>
      run.send({ type: "approval", instance: "1", decision: run.approvalDecision(true) }),
    );
  });

  it("branches on the decision", () => {
    const run = new EngineDriver([
      { name: "Gate", stepType: "approval" },
      {
        name: "Route",
        stepType: "branch",
        branches: [
          { when: { field: "Gate.approved", operator: "==", value: true }, steps: [{ name: "Go" }] },
        ],
        otherwise: [{ name: "Stop", inputMapping: { why: "{{context.Gate.comment}}" } }],
      },
    ]);
    run.start();
    run.reject("Gate", { comment: "too risky" });
    expect(run.callsOf("Stop")[0]?.input).toEqual({ why: "too risky" });
  });
});

describe("approvalTarget", () => {
  const target = (run: EngineDriver, stepName: string, instanceId?: string) =>
    approvalTarget(run.plan, run.run, stepName, instanceId);

  it("finds the one waiting instance", () => {
    const run = waiting();
    expect(target(run, "Sign-off")).toEqual({ ok: true, instance: run.instance("1") });
    expect(target(run, "Sign-off", "1")).toMatchObject({ ok: true, instance: { id: "1" } });
  });

  it("refuses a step name the execution does not have, or a step that is not an approval (BAD_REQUEST)", () => {
    const run = waiting();
    expect(target(run, "Nope")).toEqual({
      ok: false,
      code: "BAD_REQUEST",
      message: 'this execution has no step named "Nope"',
      field: "stepName",
    });
    expect(target(run, "Draft")).toEqual({
      ok: false,
      code: "BAD_REQUEST",
      message: 'step "Draft" is an agent step, not an approval',
      field: "stepName",
    });
  });

  it("refuses an approval that has not started, or an instance that does not exist (PRECONDITION_FAILED)", () => {
    const run = new EngineDriver(gated());
    run.start();
    expect(target(run, "Sign-off")).toEqual({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: 'step "Sign-off" has not started yet; it is not waiting for approval',
    });
    run.finish("Draft", reply("post"));
    expect(target(run, "Sign-off", "9")).toEqual({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: 'step "Sign-off" has no instance "9"; it is not waiting for approval',
    });
  });

  it("refuses an approval already decided (CONFLICT), saying by whom and when", () => {
    const run = waiting();
    run.at(2000).approve("Sign-off", true, { by: "user:ada" });
    expect(target(run, "Sign-off")).toEqual({
      ok: false,
      code: "CONFLICT",
      message: 'step "Sign-off" was already approved by user:ada at 1970-01-01T00:00:02.000Z',
    });
    expect(() => run.reject("Sign-off")).toThrow(/^CONFLICT: step "Sign-off" was already approved/);
  });

  it("refuses one decided by its timeout (CONFLICT) or failed by it (PRECONDITION_FAILED)", () => {
    const rejected = waiting({ onTimeout: "reject" });
    rejected.at(100 + DAY_MS).wake();
    expect(target(rejected, "Sign-off")).toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("was already rejected by timeout"),
    });
    const failed = waiting();
    failed.at(100 + DAY_MS).wake();
    expect(target(failed, "Sign-off")).toEqual({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: 'step "Sign-off" is failed, not waiting for approval',
    });
  });

  it("refuses an approval of a cancelled run (PRECONDITION_FAILED)", () => {
    const run = waiting();
    run.cancel();
    expect(target(run, "Sign-off")).toMatchObject({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: 'step "Sign-off" is cancelled, not waiting for approval',
    });
  });

  describe("inside a forEach", () => {
    const perItem: StepInput[] = [
      {
        name: "Each",
        stepType: "forEach",
        items: ["north", "south"],
        steps: [{ name: "Check", stepType: "approval", message: "Approve {{item}} (#{{index}})?" }],
      },
    ];

    it("asks for instanceId while several instances wait, and decides the one it names", () => {
      const run = new EngineDriver(perItem);
      run.start();
      expect(run.instancesOf("Check").map((i) => i.wait)).toEqual([
        expect.objectContaining({ message: "Approve north (#0)?" }),
        expect.objectContaining({ message: "Approve south (#1)?" }),
      ]);
      expect(target(run, "Check")).toEqual({
        ok: false,
        code: "BAD_REQUEST",
        message: 'step "Check" waits in 2 places (0.0.0, 0.1.0); pass instanceId',
        field: "instanceId",
      });
      run.approve("Check", true, { instanceId: "0.1.0" });
      expect(run.instance("0.1.0").status).toBe("completed");
      expect(run.instance("0.0.0").status).toBe("waiting");
      // One left waiting: no instanceId needed any more, and the decided one conflicts.
      expect(target(run, "Check")).toMatchObject({ ok: true, instance: { id: "0.0.0" } });
      expect(target(run, "Check", "0.1.0")).toMatchObject({ ok: false, code: "CONFLICT" });
      run.reject("Check");
      expect(run.instance("Each").output).toEqual([
        expect.objectContaining({ approved: false }),
        expect.objectContaining({ approved: true }),
      ]);
    });
  });

  it("answers PRECONDITION_FAILED between two iterations of a loop, not CONFLICT: the step comes round again", () => {
    const run = new EngineDriver([
      {
        name: "Rounds",
        stepType: "loop",
        maxIterations: 3,
        steps: [{ name: "Draft" }, { name: "Ok?", stepType: "approval" }],
      },
    ]);
    run.start();
    run.finish("0.0.0", reply("draft 1"));
    run.approve("Ok?");
    expect(run.instance("0.1.0").status).toBe("running"); // the next Draft, before its approval
    expect(target(run, "Ok?")).toMatchObject({
      ok: false,
      code: "PRECONDITION_FAILED",
      message: expect.stringMatching(
        /^step "Ok\?" is not waiting: iteration 0's was approved by .*, and the next iteration has not reached it$/,
      ),
    });
  });

  it("targets the iteration waiting now inside a loop, past the decisions of earlier ones", () => {
    const run = new EngineDriver([
      { name: "Rounds", stepType: "loop", maxIterations: 3, steps: [{ name: "Ok?", stepType: "approval" }] },
    ]);
    run.start();
    run.approve("Ok?");
    expect(run.instancesOf("Ok?").map((i) => [i.id, i.status])).toEqual([
      ["0.0.0", "completed"],
      ["0.1.0", "waiting"],
    ]);
    expect(target(run, "Ok?")).toMatchObject({ ok: true, instance: { id: "0.1.0" } });
    run.approve("Ok?");
    run.approve("Ok?");
    expect(run.instance("Rounds").output).toMatchObject({ iterations: 3 });
    expect(target(run, "Ok?")).toMatchObject({ code: "CONFLICT" });
  });
});
