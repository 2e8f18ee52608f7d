// `meta` scopes: a role holding "meta:read", "meta:run" or "meta:write" may call only that part of the meta
// API (the others are refused naming the tool needed, and change nothing), plain `meta` keeps its full
// meaning, a role with any of them runs agent code inside a step, and unknown meta scopes are refused.
import { describe, expect, it } from "vitest";
import { META_API_DTS } from "../../worker/agent-code/meta-api";
import { META_FUNCTION_NAMES, META_FUNCTION_SCOPES } from "../../worker/agent-code/meta-names";
import type { ScriptCall } from "../../worker/models/scripted";
import { codeReply, metaTenant, runCode } from "../helpers/agent-code";
import { errorOf } from "../helpers/client";
import { scriptedModel, waitForEnd } from "../helpers/executions";
import { snapshotOf } from "../helpers/fixtures";

/** Calls every meta function with a plausible argument; reports "allowed" or how the refusal read. */
const CALL_EVERYTHING = `const names = ${JSON.stringify(META_FUNCTION_NAMES)};
const argument = {
  name: "Sneaky", basePrompt: "p", steps: [{ name: "A" }], nameOrId: "Writer",
  roleId: "missing", orchestrationId: "missing", executionId: "exe_1", updates: { description: "x" },
};
const outcomes: Record<string, string> = {};
for (const name of names) {
  try {
    await (system as any)[name](argument);
    outcomes[name] = "allowed";
  } catch (e) {
    const error = e as Error;
    outcomes[name] = error.name === "PermissionDenied" ? error.message : "allowed";
  }
}
return outcomes;`;

describe("meta scopes", () => {
  it.each([["read"], ["run"], ["write"]] as const)(
    "meta:%s allows its functions and refuses the others, naming the tool, changing nothing",
    async (scope) => {
      const account = await metaTenant();
      const role = await account.trpc.role.create.mutate({
        name: "Scoped",
        basePrompt: "You act.",
        tools: [`meta:${scope}`, "search"],
      });
      await account.trpc.role.create.mutate({ name: "Writer", basePrompt: "You write." });
      const before = await snapshotOf(account);
      const run = await runCode(account.trpc, CALL_EVERYTHING, { roleName: "Scoped" });
      expect(run.ok, JSON.stringify(run.error)).toBe(true);
      const expected = Object.fromEntries(
        META_FUNCTION_NAMES.map((name) => {
          const needed = META_FUNCTION_SCOPES[name];
          return [
            name,
            needed === scope
              ? "allowed"
              : `${name}: PERMISSION_DENIED: role "Scoped" (${role.id}) holds only "meta:${scope}", not "meta:${needed}", which ${name} needs; add "meta:${needed}" (or "meta") to the role's tools`,
          ];
        }),
      );
      expect(run.result).toEqual(expected);
      if (scope === "read") expect(await snapshotOf(account)).toEqual(before);
    },
  );

  it("plain meta allows every function, and read+write scopes together allow both parts", async () => {
    const account = await metaTenant();
    await account.trpc.role.create.mutate({ name: "Writer", basePrompt: "You write." });
    const all = await runCode(account.trpc, CALL_EVERYTHING);
    expect(Object.values(all.result as Record<string, string>).every((o) => o === "allowed")).toBe(true);
    await account.trpc.role.create.mutate({
      name: "Two",
      basePrompt: "p",
      tools: ["meta:write", "meta:read"],
    });
    const two = await runCode(
      account.trpc,
      `await create_role({ name: "Made", basePrompt: "p" });
return (await list_roles()).map((r) => r.name).sort();`,
      { roleName: "Two" },
    );
    expect(two.result).toEqual(["Made", "Orchestration Designer", "Two", "Writer"]);
    const refused = await runCode(account.trpc, `await execute_orchestration({ orchestrationId: "x" });`, {
      roleName: "Two",
    });
    expect(refused.error).toMatchObject({ name: "PermissionDenied", code: "FORBIDDEN" });
    expect(refused.error?.message).toContain('not "meta:run", which execute_orchestration needs');
  });

  it("a role with only meta:read runs agent code inside an orchestration step", async () => {
    const { trpc } = await metaTenant();
    const seen: ScriptCall[] = [];
    const model = scriptedModel((call) => {
      seen.push(call);
      const turn = call.request.messages.filter((m) => m.role === "assistant").length;
      return turn === 0 ? codeReply("return (await list_roles()).length;") : "Counted.";
    });
    await trpc.role.create.mutate({
      name: "Reader",
      basePrompt: "You count roles.",
      tools: ["meta:read"],
      hyperparameters: { model },
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Count",
      steps: [{ name: "Count", roleName: "Reader" }],
    });
    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });
    const status = await waitForEnd(trpc, started.id);
    expect(status.status, status.error ?? "").toBe("completed");
    const turns = status.stepLogs[0]?.attempts[0]?.turns ?? [];
    expect(turns.map((t) => [t.turn, t.run?.ok ?? null, t.run?.result ?? null])).toEqual([
      [1, true, 2],
      [2, null, null],
    ]);
    expect(seen[0]?.request.messages[0]?.content).toContain('"meta:read"');
  });

  it.each(["meta:admin", "meta:", "meta:READ", "other:read"])(
    "refuses the tool %j at save time with BAD_REQUEST on tools[0], writing nothing",
    async (tool) => {
      const account = await metaTenant();
      const before = await snapshotOf(account);
      const error = await errorOf(
        account.trpc.role.create.mutate({ name: "Bad", basePrompt: "p", tools: [tool] }),
      );
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.issues).toEqual([
        {
          path: "tools[0]",
          message: expect.stringMatching(/meta:read, meta:run, meta:write|lowercase tool name/),
        },
      ]);
      expect(await snapshotOf(account)).toEqual(before);
    },
  );

  it("the API declarations say which tool allows which function", () => {
    expect(META_API_DTS).toContain(
      "//   meta:read  list_roles, get_role, list_orchestrations, get_orchestration, get_execution_status",
    );
    expect(META_API_DTS).toContain(
      "//   meta:run   execute_orchestration, approve_step, resume_execution, rerun_execution",
    );
    expect(META_API_DTS).toContain('tools?: ("meta" | "meta:read" | "meta:run" | "meta:write"');
  });
});
