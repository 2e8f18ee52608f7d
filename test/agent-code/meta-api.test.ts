// The API surface around agent code: the declarations served at /meta-api.d.ts cover exactly the functions
// the sandbox offers, every step kind's fields and every field of an execution status; every run is
// recorded, and the cost of a run (cold isolate, then warm) is printed.
import { transform } from "sucrase";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { STEP_TYPES, type StepType } from "../../durable-objects/engine/definition";
import { META_API_DTS } from "../../worker/agent-code/meta-api";
import { META_FUNCTION_NAMES } from "../../worker/agent-code/meta-names";
import { orchestrationInputSchema } from "../../worker/schemas/orchestration";
import { metaTenant, runCode } from "../helpers/agent-code";
import { BASE_URL, workerFetch } from "../helpers/client";
import { flowWith, startRun } from "../helpers/control-flow";
import { rowsOf, sha256Hex } from "../helpers/db";
import { waitForEnd } from "../helpers/executions";

describe("GET /meta-api.d.ts", () => {
  it("declares every meta function, as a global and under system, as valid TypeScript", async () => {
    const response = await workerFetch(`${BASE_URL}/meta-api.d.ts`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const text = await response.text();
    const declared = [...text.matchAll(/^declare function (\w+)\(/gm)].map((m) => m[1]);
    expect(declared.sort()).toEqual([...META_FUNCTION_NAMES].sort());
    for (const name of META_FUNCTION_NAMES) expect(text).toContain(`  ${name}: typeof ${name};`);
    expect(() => transform(text, { transforms: ["typescript"] })).not.toThrow();
  });
});

/** The fields an interface of the declarations lists, its `extends` parents' first. */
function declaredFields(text: string, name: string): string[] {
  const match = new RegExp(`^interface ${name}(?: extends ([\\w, ]+))? \\{\\n([\\s\\S]*?)^\\}`, "m").exec(
    text,
  );
  if (!match) throw new Error(`no interface ${name} in the declarations`);
  const parents = (match[1] ?? "").split(",").map((parent) => parent.trim());
  const inherited = parents.filter(Boolean).flatMap((parent) => declaredFields(text, parent));
  return [...inherited, ...[...(match[2] ?? "").matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1] ?? "")];
}

const DECLARED_KINDS: Record<StepType, string> = {
  agent: "AgentStep",
  loop: "LoopStep",
  forEach: "ForEachStep",
  branch: "BranchStep",
  orchestration: "OrchestrationStep",
  approval: "ApprovalStep",
  sleep: "SleepStep",
};

describe("the declared types", () => {
  it("declare each step kind with exactly the fields the API's schema takes", () => {
    const schema = z.toJSONSchema(orchestrationInputSchema, { io: "input", unrepresentable: "any" }) as {
      $defs: Record<string, { properties: Record<string, { const?: string }> }>;
    };
    const kinds = Object.values(schema.$defs).filter((def) => def.properties?.stepType?.const);
    expect(kinds.map((def) => def.properties.stepType?.const).sort()).toEqual([...STEP_TYPES].sort());
    for (const def of kinds) {
      const kind = def.properties.stepType?.const as StepType;
      expect(declaredFields(META_API_DTS, DECLARED_KINDS[kind]).sort(), kind).toEqual(
        Object.keys(def.properties).sort(),
      );
    }
    expect(META_API_DTS).toContain(`type StepInput = ${Object.values(DECLARED_KINDS).join(" | ")};`);
  });

  it("declare ExecutionStatus, StepLog and Attempt with exactly the fields a status has", async () => {
    const { trpc } = await metaTenant();
    const flow = await flowWith(
      trpc,
      [
        { name: "First" },
        { name: "Again", stepType: "loop", maxIterations: 1, steps: [{ name: "Inside loop" }] },
        { name: "Each", stepType: "forEach", items: [1], steps: [{ name: "Inside forEach" }] },
        {
          name: "Pick",
          stepType: "branch",
          branches: [{ when: { field: "input.go", operator: "exists" }, steps: [{ name: "Inside arm" }] }],
        },
      ],
      () => "ok",
    );
    const status = await waitForEnd(trpc, await startRun(trpc, flow.id, { go: true }));
    expect(status.status).toBe("completed");
    const keys = (objects: object[]) => [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
    expect(declaredFields(META_API_DTS, "ExecutionStatus").sort()).toEqual(keys([status]));
    expect(declaredFields(META_API_DTS, "StepLog").sort()).toEqual(keys(status.stepLogs));
    const attempts = status.stepLogs.flatMap((log) => log.attempts);
    expect(declaredFields(META_API_DTS, "Attempt").sort()).toEqual(keys(attempts));
  });
});

describe("agent runs", () => {
  it("records each run with its role, code hash, duration, calls and outcome", async () => {
    const { trpc, tenant, designer } = await metaTenant();
    const counting = "return (await list_roles()).length + (await list_roles()).length;";
    await runCode(trpc, counting);
    await runCode(trpc, "const broken = ;");
    await runCode(trpc, "while (true) {}");
    const runs = (await trpc.agent.runs.query()).items;
    expect(runs.map((r) => [r.outcome, r.calls])).toEqual([
      ["limit_exceeded", 0],
      ["syntax_error", 0],
      ["ok", 2],
    ]);
    expect(runs[2]).toMatchObject({
      roleId: designer.id,
      codeBytes: counting.length,
      codeHash: await sha256Hex(counting),
    });
    expect(runs[1]?.error).toBe("SyntaxError: Unexpected token");
    const stored = await rowsOf("agent_runs", "tenant_id = ?", tenant.id);
    expect(stored).toHaveLength(3);
    expect(stored.every((row) => row.execution_id === null && typeof row.duration_ms === "number")).toBe(
      true,
    );
  });

  it("prints the cold start and the warm run of a small script", async () => {
    const { trpc } = await metaTenant();
    const code =
      'const roles = await list_roles();\nconsole.log(roles.length, "role(s)");\nreturn roles[0]?.name;';
    const timed = async () => {
      const started = Date.now();
      const run = await runCode(trpc, code);
      return { ...run, clientMs: Date.now() - started };
    };
    const cold = await timed();
    const warm = [await timed(), await timed(), await timed()];
    const warmMs = warm.map((run) => run.durationMs).sort((a, b) => a - b);
    console.log(
      `agent code, small script: cold start ${cold.durationMs} ms (${cold.clientMs} ms through tRPC); ` +
        `warm runs ${warmMs.join(", ")} ms (median ${warmMs[1]} ms)`,
    );
    expect(cold).toMatchObject({ ok: true, result: "Orchestration Designer", coldStart: true });
    expect(warm.every((run) => run.ok && !run.coldStart)).toBe(true);
  });
});
