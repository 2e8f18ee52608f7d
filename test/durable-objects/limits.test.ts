// Sizes and CPU inside a run, through the real API and runtime: a mapping that quadruples the context
// each step fails the step that would pass a size limit (error kind `limit`, the run failed, at once,
// never stuck in `running`), a tenant's plan moves the limits for its own runs only, a run's stored
// state over a Durable Object value's 2 MB fails the run cleanly, and a backtracking-prone `matches`
// condition is decided by a linear-time engine.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registerScript, SCRIPT_PREFIX } from "../../worker/models/scripted";
import { newTenant, type TestClient } from "../helpers/client";
import { logNamed, runToEnd } from "../helpers/control-flow";
import { scriptedModel, waitForEnd } from "../helpers/executions";
import { runToEnd as runPlantedToEnd } from "../helpers/v1-state";
import { plantV2Execution } from "../helpers/v2-state";

const LOCAL = "local:local/simulated";
const four = (ref: string) => `{{${ref}}}{{${ref}}}{{${ref}}}{{${ref}}}`;

/** Ten steps of `model`, each mapping `a` to four copies of the previous `a`: the context grows 4x a step. */
async function growthFlow(trpc: TestClient, model: string) {
  await trpc.role.create.mutate({ name: "Echo", basePrompt: "Echo.", hyperparameters: { model } });
  return trpc.orchestrationManagement.create.mutate({
    name: "Growth",
    steps: Array.from({ length: 10 }, (_, i) => ({
      name: `Grow ${i}`,
      roleName: "Echo",
      maxRetries: 3,
      outputMapping: { a: four(i === 0 ? "context.input.seed" : "context.a") },
    })),
  });
}

/** A role answered by `reply` and a one-step orchestration over it with `step`'s extra fields. */
async function oneStep(trpc: TestClient, reply: () => string, step: Record<string, unknown> = {}) {
  const model = scriptedModel(() => reply());
  await trpc.role.create.mutate({ name: "Writer", basePrompt: "Write.", hyperparameters: { model } });
  return trpc.orchestrationManagement.create.mutate({
    name: "One",
    steps: [{ name: "Write", roleName: "Writer", maxRetries: 3, retryDelay: 0, ...step }],
  });
}

async function setPlan(tenantId: string, plan: Record<string, number>) {
  await env.DB.prepare("update tenants set plan = ? where id = ?").bind(JSON.stringify(plan), tenantId).run();
}

describe("sizes inside a run", () => {
  it("fails the step whose mapped value would pass 256 KB (kind limit); the run fails inside execute", async () => {
    const { trpc } = await newTenant("growth");
    const flow = await growthFlow(trpc, LOCAL);

    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: flow.id,
      input: { seed: "x".repeat(10) },
    });

    // Every step is the local model's, answered inline: execute returns with the run already ended.
    expect(started.status).toBe("failed");
    const status = await waitForEnd(trpc, started.id);
    // 40 * 4^7 = 655,360 characters would be step 7's value; steps 0-6 stay under 262,144.
    const statuses = status.stepLogs.map((log) => log.status);
    expect(statuses).toEqual([...Array(7).fill("completed"), "failed", "cancelled", "cancelled"]);
    const failed = status.stepLogs[7];
    expect(failed?.attempts).toHaveLength(1);
    expect(failed?.attempts[0]).toMatchObject({ status: "failed", errorKind: "limit" });
    expect(status.error).toBe(
      'step "Grow 7" failed after 1 attempt: outputMapping.a is over 262144 characters (maxMappedValueChars)',
    );
    expect((status.context.a as string).length).toBe(40 * 4 ** 6);
  });

  it("ends the same growth failed when the calls go out (alarms, replies), never stuck in running", async () => {
    const { trpc } = await newTenant("growth-out");
    const flow = await growthFlow(
      trpc,
      scriptedModel(() => "ok"),
    );

    const status = await runToEnd(trpc, flow.id, { seed: "y".repeat(10) });

    expect(status.status).toBe("failed");
    expect(logNamed(status, "Grow 7").attempts.map((a) => a.errorKind)).toEqual(["limit"]);
    expect(status.error).toContain("(maxMappedValueChars)");
  });

  it("fails a reply over 256 KB without retrying it or keeping it", async () => {
    const { trpc } = await newTenant("big-reply");
    let calls = 0;
    const flow = await oneStep(trpc, () => {
      calls += 1;
      return "z".repeat(262_145);
    });

    const status = await runToEnd(trpc, flow.id);

    expect(status.status).toBe("failed");
    expect(calls).toBe(1);
    const [attempt] = logNamed(status, "Write").attempts;
    expect(attempt).toMatchObject({ errorKind: "limit", output: null });
    expect(status.error).toBe(
      'step "Write" failed after 1 attempt: the reply is over 262144 characters (maxStepOutputChars)',
    );
  });

  it("fails a step whose rendered input would pass 256 KB before its model is called", async () => {
    const { trpc } = await newTenant("big-input");
    let calls = 0;
    const flow = await oneStep(
      trpc,
      () => {
        calls += 1;
        return "never";
      },
      { inputMapping: { text: four("context.input.chunk") } },
    );

    const status = await runToEnd(trpc, flow.id, { chunk: "c".repeat(70_000) });

    expect(status.status).toBe("failed");
    expect(calls).toBe(0);
    expect(logNamed(status, "Write").attempts).toMatchObject([{ errorKind: "limit", input: null }]);
    expect(status.error).toBe(
      'step "Write" failed after 1 attempt: the rendered input is over 262144 characters (maxStepInputChars)',
    );
  });

  it("runs under the tenant's plan, pinned at start; another tenant keeps the defaults", async () => {
    const small = await newTenant("small-plan");
    const other = await newTenant("default-plan");
    await setPlan(small.tenant.id, { maxMappedValueChars: 1000 });
    const flows = await Promise.all(
      [small, other].map(({ trpc }) =>
        oneStep(trpc, () => "w".repeat(2000), { outputMapping: { text: "{{output}}" } }),
      ),
    );

    const [limited, unlimited] = await Promise.all([
      runToEnd(small.trpc, flows[0]?.id ?? ""),
      runToEnd(other.trpc, flows[1]?.id ?? ""),
    ]);

    expect(limited.status).toBe("failed");
    expect(limited.error).toBe(
      'step "Write" failed after 1 attempt: outputMapping.text is over 1000 characters (maxMappedValueChars)',
    );
    expect(unlimited.status).toBe("completed");
    expect((unlimited.context.text as string).length).toBe(2000);
  });
});

describe("a run stored before sizes were limited", () => {
  it("runs on under the default limits: its plan pins none, and B's long reply fails B", async () => {
    const planted = await plantV2Execution("chainHeldAtB");
    expect(planted.entries.plan).not.toHaveProperty("limits");
    // The planted plan's model, answered from now on with a reply one character over the default.
    registerScript(planted.model.model.slice(SCRIPT_PREFIX.length), () => "b".repeat(262_145));

    const end = await runPlantedToEnd(planted);

    expect(end.status).toBe("failed");
    expect(logNamed(end, "B").attempts.map((a) => a.errorKind)).toEqual(["interrupted", "limit"]);
    expect(end.error).toBe(
      'step "B" failed after 2 attempts: the reply is over 262144 characters (maxStepOutputChars)',
    );
  });
});

describe("state over a stored value's limit", () => {
  // Each value is within its own limit, but together (two bytes a character) one step's record is ~2.8 MB.
  const wide = "中".repeat(200_000);
  const fiveCopies = Object.fromEntries(["a", "b", "c", "d", "e"].map((key) => [key, "{{output}}"]));

  it("fails the run cleanly when a step's record would pass 2 MB after a reply", async () => {
    const { trpc } = await newTenant("too-large");
    const flow = await oneStep(trpc, () => wide, { outputMapping: fiveCopies });

    const status = await runToEnd(trpc, flow.id);

    expect(status.status).toBe("failed");
    expect(status.error).toBe(
      `the run's state could not be stored: the record of step "Write" (0) is over 2000000 bytes, more than one stored value holds (keep step outputs and mapped values smaller)`,
    );
    expect(logNamed(status, "Write").status).toBe("cancelled");
  });

  it("starts a run failed whose first decision could not be stored (local steps, inside execute)", async () => {
    const { trpc } = await newTenant("too-large-start");
    await trpc.role.create.mutate({ name: "Echo", basePrompt: "Echo.", hyperparameters: { model: LOCAL } });
    const keys = Array.from({ length: 12 }, (_, i) => [`k${i}`, "{{context.input.wide}}"]);
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Wide",
      steps: [{ name: "Copy", roleName: "Echo", outputMapping: Object.fromEntries(keys) }],
    });

    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: flow.id,
      input: { wide: "中".repeat(85_000) },
    });

    expect(started.status).toBe("failed");
    expect(started.error).toContain(`the record of step "Copy" (0) is over 2000000 bytes`);
    expect((await waitForEnd(trpc, started.id)).status).toBe("failed");
  });
});

describe("matches", () => {
  async function matchFlow(trpc: TestClient, pattern: string) {
    return oneStep(trpc, () => "ran", {
      condition: { field: "input.text", operator: "matches", value: pattern },
    });
  }

  it("decides ^(a+)+$ against 40 a's and a b with RE2: false, the step skipped, the run completed", async () => {
    const { trpc } = await newTenant("redos");
    const flow = await matchFlow(trpc, "^(a+)+$");

    const status = await runToEnd(trpc, flow.id, { text: `${"a".repeat(40)}b` });

    expect(status.status).toBe("completed");
    expect(logNamed(status, "Write")).toMatchObject({ status: "skipped" });
    const matched = await runToEnd(trpc, flow.id, { text: "a".repeat(40) });
    expect(logNamed(matched, "Write").status).toBe("completed");
  });

  it("reads at most 10,000 characters: a longer value is false with a warning naming the limit", async () => {
    const { trpc } = await newTenant("long-match");
    const flow = await matchFlow(trpc, "b$");

    const status = await runToEnd(trpc, flow.id, { text: `${"a".repeat(10_000)}b` });

    const log = logNamed(status, "Write");
    expect(log.status).toBe("skipped");
    expect(log.warnings.join("\n")).toContain("matches reads at most 10000");
  });
});
