// The API surface around agent code: the declarations served at /meta-api.d.ts cover exactly the functions
// the sandbox offers, every run is recorded, and the cost of a run (cold isolate, then warm) is printed.
import { transform } from "sucrase";
import { describe, expect, it } from "vitest";
import { META_FUNCTION_NAMES } from "../../worker/agent-code/meta-names";
import { metaTenant, runCode } from "../helpers/agent-code";
import { BASE_URL, workerFetch } from "../helpers/client";
import { rowsOf, sha256Hex } from "../helpers/db";

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

describe("agent runs", () => {
  it("records each run with its role, code hash, duration, calls and outcome", async () => {
    const { trpc, tenant, designer } = await metaTenant();
    const counting = "return (await list_roles()).length + (await list_roles()).length;";
    await runCode(trpc, counting);
    await runCode(trpc, "const broken = ;");
    await runCode(trpc, "while (true) {}");
    const runs = await trpc.agent.runs.query();
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
