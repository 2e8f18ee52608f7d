// Who may do what from agent code: only a role holding `meta` may call any meta function (others are
// refused, naming the role and the missing tool, and nothing changes), revoking `meta` takes effect at
// once, and one tenant's code can neither see nor touch another tenant's roles, orchestrations or
// executions, by id or by name.
import { describe, expect, it } from "vitest";
import { META_FUNCTION_NAMES, META_FUNCTION_SCOPES } from "../../worker/agent-code/meta-names";
import { metaTenant, runCode } from "../helpers/agent-code";
import { waitForEnd } from "../helpers/executions";
import { snapshotOf } from "../helpers/fixtures";

/** Agent code that calls every meta function with a plausible argument and reports how each ended. */
const CALL_EVERYTHING = `const names = ${JSON.stringify(META_FUNCTION_NAMES)};
const argument = {
  name: "Sneaky", basePrompt: "p", steps: [{ name: "A" }], nameOrId: "Writer",
  roleId: "Writer", orchestrationId: "Flow", executionId: "exe_1", updates: { description: "x" },
};
const outcomes: string[] = [];
for (const name of names) {
  try {
    await (system as any)[name](argument);
    outcomes.push(name + " allowed");
  } catch (e) {
    const error = e as Error & { code?: string };
    outcomes.push([error.name, error.code, error.message].join(" | "));
  }
}
return outcomes;`;

describe("the meta tool", () => {
  it("refuses every meta function to a role without it, naming the role and the tool, and writes nothing", async () => {
    const account = await metaTenant();
    const writer = await account.trpc.role.create.mutate({ name: "Writer", basePrompt: "You write." });
    await account.trpc.orchestrationManagement.create.mutate({
      name: "Flow",
      steps: [{ name: "A", roleName: "Writer" }],
    });
    const before = await snapshotOf(account);
    const run = await runCode(account.trpc, CALL_EVERYTHING, { roleName: "Writer" });
    expect(run.ok).toBe(true);
    expect(run.result).toEqual(
      META_FUNCTION_NAMES.map(
        (name) =>
          `PermissionDenied | FORBIDDEN | ${name}: PERMISSION_DENIED: role "Writer" (${writer.id}) lacks the "meta" tool, which ${name} needs; add "meta:${META_FUNCTION_SCOPES[name]}" (or "meta") to the role's tools`,
      ),
    );
    expect(run.calls.every((call) => !call.ok)).toBe(true);
    expect(await snapshotOf(account)).toEqual(before);
  });

  it("reports an uncaught refusal as the run's error, with its code and line", async () => {
    const { trpc } = await metaTenant();
    await trpc.role.create.mutate({ name: "Writer", basePrompt: "You write.", tools: ["search"] });
    const run = await runCode(
      trpc,
      'console.log("starting");\nawait create_role({ name: "X", basePrompt: "p" });',
      {
        roleName: "Writer",
      },
    );
    expect(run).toMatchObject({
      ok: false,
      logs: [{ level: "log", message: "starting" }],
      error: { name: "PermissionDenied", code: "FORBIDDEN", line: 2, column: 7 },
    });
    expect((await trpc.role.list.query()).items.map((r) => r.name)).toEqual([
      "Orchestration Designer",
      "Writer",
    ]);
  });

  it("takes the tool away at once when the role is updated", async () => {
    const { trpc, designer } = await metaTenant();
    expect((await runCode(trpc, "return (await list_roles()).length;")).result).toBe(1);
    await trpc.role.update.mutate({ roleId: designer.id, updates: { tools: [] } });
    const run = await runCode(trpc, "return (await list_roles()).length;");
    expect(run.error).toMatchObject({ name: "PermissionDenied", code: "FORBIDDEN" });
  });
});

describe("tenants", () => {
  it("cannot see or touch another tenant's roles, orchestrations or executions, by id or by name", async () => {
    const victim = await metaTenant("victim");
    const secretRole = await victim.trpc.role.create.mutate({ name: "Secret Role", basePrompt: "hidden" });
    const secretFlow = await victim.trpc.orchestrationManagement.create.mutate({
      name: "Secret Flow",
      steps: [{ name: "Only", roleName: "Secret Role" }],
    });
    const execution = await victim.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: secretFlow.id,
      idempotencyKey: "secret-key",
    });
    await waitForEnd(victim.trpc, execution.id);
    const before = await snapshotOf(victim);

    const intruder = await metaTenant("intruder");
    const refs = {
      roles: [secretRole.id, "Secret Role", victim.designer.id],
      flows: [secretFlow.id, "Secret Flow"],
      executions: [execution.id, "secret-key"],
    };
    const run = await runCode(
      intruder.trpc,
      `const refs = ${JSON.stringify(refs)};
const attempts: [string, () => Promise<unknown>][] = [];
for (const ref of refs.roles) {
  attempts.push(["get_role " + ref, () => get_role({ nameOrId: ref })]);
  attempts.push(["update_role " + ref, () => update_role({ roleId: ref, updates: { tools: ["meta"] } })]);
  attempts.push(["delete_role " + ref, () => delete_role({ roleId: ref })]);
}
for (const ref of refs.flows) {
  attempts.push(["get_orchestration " + ref, () => get_orchestration({ nameOrId: ref })]);
  attempts.push(["update_orchestration " + ref, () => update_orchestration({ orchestrationId: ref, updates: { isActive: false } })]);
  attempts.push(["execute_orchestration " + ref, () => execute_orchestration({ orchestrationId: ref })]);
  attempts.push(["delete_orchestration " + ref, () => delete_orchestration({ orchestrationId: ref })]);
}
for (const ref of refs.executions) {
  attempts.push(["get_execution_status " + ref, () => get_execution_status({ executionId: ref })]);
  attempts.push(["approve_step " + ref, () => approve_step({ executionId: ref, stepName: "Only", approved: true })]);
  attempts.push(["resume_execution " + ref, () => resume_execution({ executionId: ref })]);
  attempts.push(["rerun_execution " + ref, () => rerun_execution({ executionId: ref })]);
}
const outcomes: Record<string, string> = {};
for (const [label, attempt] of attempts) {
  try {
    await attempt();
    outcomes[label] = "reached";
  } catch (e) {
    outcomes[label] = (e as Error).name;
  }
}
return {
  outcomes,
  roles: (await list_roles()).map((r) => r.name),
  flows: (await list_orchestrations({})).map((o) => o.name),
};`,
    );
    expect(run.error).toBeNull();
    const result = run.result as { outcomes: Record<string, string>; roles: string[]; flows: string[] };
    expect(Object.keys(result.outcomes)).toHaveLength(25);
    expect(new Set(Object.values(result.outcomes))).toEqual(new Set(["NotFoundError"]));
    expect(result.roles).toEqual(["Orchestration Designer"]);
    expect(result.flows).toEqual([]);
    expect(await snapshotOf(victim)).toEqual(before);
  });

  it("runs the same code of two tenants in two isolates", async () => {
    const first = await metaTenant("first");
    const second = await metaTenant("second");
    const code =
      "globalThis.visits = ((globalThis as any).visits ?? 0) + 1;\nreturn (globalThis as any).visits;";
    const a1 = await runCode(first.trpc, code);
    const a2 = await runCode(first.trpc, code);
    const b1 = await runCode(second.trpc, code);
    expect([a1.result, a2.result, b1.result]).toEqual([1, 2, 1]);
    expect([a1.coldStart, a2.coldStart, b1.coldStart]).toEqual([true, false, true]);
  });
});
