// Branches through the real API and runtime: the first arm whose `when` holds runs and gives the
// branch its output, the others show as skipped; `otherwise` when none holds; none matching and no
// otherwise completes with null and the run goes on.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { JsonValue } from "../../worker/schemas/common";
import { newTenant } from "../helpers/client";
import {
  CallLog,
  flowWith,
  logNamed,
  logsNamed,
  runToEnd,
  startRun,
  waitForStep,
} from "../helpers/control-flow";
import { waitForEnd } from "../helpers/executions";
import { gate, type StepInput } from "../helpers/runs";

const triage = (withOtherwise: boolean): StepInput[] => [
  { name: "Classify", inputMapping: { step: "Classify", kind: "{{context.input.kind}}" } },
  {
    name: "Route",
    stepType: "branch",
    branches: [
      {
        when: { field: "Classify.kind", operator: "==", value: "feature" },
        steps: [{ name: "Feature", inputMapping: { step: "Feature" } }],
      },
      {
        when: { field: "Classify.kind", operator: "in", value: ["bug", "crash"] },
        steps: [
          { name: "Reproduce", inputMapping: { step: "Reproduce" } },
          { name: "Fix", inputMapping: { step: "Fix", repro: "{{context.Reproduce}}" } },
        ],
      },
      {
        // Holds for a bug too, but an earlier arm wins.
        when: { field: "Classify.kind", operator: "exists" },
        steps: [{ name: "Anything", inputMapping: { step: "Anything" } }],
      },
    ],
    ...(withOtherwise ? { otherwise: [{ name: "Other", inputMapping: { step: "Other" } }] } : {}),
  },
  { name: "After", inputMapping: { step: "After", routed: "{{context.Route}}" } },
];

function triageScript(calls: CallLog) {
  return (input: Record<string, JsonValue>) => {
    calls.record(input);
    if (input.step === "Classify")
      return input.kind === "" ? JSON.stringify({ none: true }) : JSON.stringify({ kind: input.kind });
    if (input.step === "After") return JSON.stringify({ routed: input.routed ?? null });
    if (input.step === "Fix") return `fixed after ${input.repro}`;
    return `${input.step} ran`;
  };
}

const armStatuses = (status: ExecutionStatus) =>
  logNamed(status, "Route").branch?.arms.map((arm) => [arm.label, arm.status]);

describe("branch", () => {
  it("runs the first arm whose when holds; its last step's output is the branch's; the others show skipped", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, triage(true), triageScript(calls));

    const status = await runToEnd(trpc, orchestration.id, { kind: "bug" });

    expect(status.status).toBe("completed");
    expect(calls.counts).toEqual({ Classify: 1, Reproduce: 1, Fix: 1, After: 1 });
    const route = logNamed(status, "Route");
    expect(route).toMatchObject({ status: "completed", output: "fixed after Reproduce ran" });
    expect(route.reason).toContain("branch 1 taken");
    expect(route.branch?.taken).toBe(1);
    expect(armStatuses(status)).toEqual([
      ["branches[0]", "skipped"],
      ["branches[1]", "taken"],
      ["branches[2]", "skipped"],
      ["otherwise", "skipped"],
    ]);
    expect(logsNamed(status, "Fix").map((log) => [log.id, log.parentId, log.slot])).toEqual([
      ["1.1.1", "1", 1],
    ]);
    // Steps of arms not taken have no instances.
    expect(logsNamed(status, "Feature")).toEqual([]);
    expect(status.output).toEqual({ routed: "fixed after Reproduce ran" });
  });

  it("runs otherwise when no arm holds", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, triage(true), triageScript(calls));

    const status = await runToEnd(trpc, orchestration.id, { kind: "" });

    expect(status.status).toBe("completed");
    expect(calls.counts).toEqual({ Classify: 1, Other: 1, After: 1 });
    expect(logNamed(status, "Route")).toMatchObject({ output: "Other ran", branch: { taken: 3 } });
    expect(logNamed(status, "Route").reason).toContain("otherwise taken");
    expect(armStatuses(status)).toEqual([
      ["branches[0]", "skipped"],
      ["branches[1]", "skipped"],
      ["branches[2]", "skipped"],
      ["otherwise", "taken"],
    ]);
    expect(logNamed(status, "Other").id).toBe("1.3.0");
  });

  it("completes with null when no arm holds and there is no otherwise, and the run goes on", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, triage(false), triageScript(calls));

    const status = await runToEnd(trpc, orchestration.id, { kind: "" });

    expect(status.status).toBe("completed");
    expect(calls.counts).toEqual({ Classify: 1, After: 1 });
    const route = logNamed(status, "Route");
    expect(route).toMatchObject({ status: "completed", output: null, branch: { taken: null } });
    expect(route.reason).toContain("no branch taken and there is no otherwise");
    expect(armStatuses(status)).toEqual([
      ["branches[0]", "skipped"],
      ["branches[1]", "skipped"],
      ["branches[2]", "skipped"],
    ]);
    expect(status.context.Route).toBeNull();
  });

  it("shows the arms pending while the branch has not been reached", async () => {
    const { trpc } = await newTenant();
    const classified = gate<string>();
    const orchestration = await flowWith(trpc, triage(true), (input) =>
      input.step === "Classify" ? classified.promise : `${input.step} ran`,
    );
    const id = await startRun(trpc, orchestration.id, { kind: "feature" });
    const before = await waitForStep(trpc, id, "Classify", "running");

    classified.open(JSON.stringify({ kind: "feature" }));
    const after = await waitForEnd(trpc, id);

    expect(logNamed(before, "Route")).toMatchObject({ status: "pending", branch: { taken: null } });
    expect(armStatuses(before)?.every(([, state]) => state === "pending")).toBe(true);
    expect(armStatuses(after)?.[0]).toEqual(["branches[0]", "taken"]);
    expect(logNamed(after, "Route").output).toBe("Feature ran");
  });
});
