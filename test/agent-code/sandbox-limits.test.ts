// The sandbox's walls, through agent.runCode: no network, runaway loops and recursion stopped with a clear
// error in bounded time while the platform keeps answering, syntax and runtime errors located in the
// agent's own lines, and every size limit (code, argument, calls, logs, result) enforced and reported.
import { describe, expect, it } from "vitest";
import {
  GUARD_BUSY_MS,
  MAX_ARGUMENT_CHARS,
  MAX_CODE_BYTES,
  MAX_LOG_CHARS,
  MAX_META_CALLS,
  MAX_RESULT_CHARS,
} from "../../worker/agent-code/limits";
import { metaTenant, runCode } from "../helpers/agent-code";
import { BASE_URL, errorOf, type TestClient, workerFetch } from "../helpers/client";

/** Runs `code` while other requests arrive; returns the run and when each other request was answered. */
async function runWhileServing(trpc: TestClient, code: string) {
  const started = Date.now();
  const runaway = runCode(trpc, code);
  const others = Promise.all([
    workerFetch(`${BASE_URL}/health`).then((r) => ({ status: r.status, at: Date.now() - started })),
    trpc.role.list
      .query()
      .then((roles) => ({ status: roles.items.length > 0 ? 200 : 500, at: Date.now() - started })),
  ]);
  const run = await runaway;
  return { run, elapsed: Date.now() - started, others: await others };
}

describe("runaway code", () => {
  it("stops while (true) {} with a clear error in bounded time while other requests are answered", async () => {
    const { trpc } = await metaTenant();
    const { run, elapsed, others } = await runWhileServing(
      trpc,
      "let spins = 0;\nwhile (true) {\n  spins++;\n}",
    );
    console.log(
      `while (true) {} stopped after ${elapsed} ms; other requests answered after ${others.map((o) => o.at).join(" and ")} ms`,
    );
    expect(run.ok).toBe(false);
    expect(run.error).toMatchObject({ name: "LimitExceeded", line: 2, column: 8 });
    expect(run.error?.message).toContain("an endless loop");
    expect(elapsed).toBeLessThan(10_000);
    expect(others.map((o) => o.status)).toEqual([200, 200]);
  });

  it("stops a loop with an expensive body after the busy limit", async () => {
    const { trpc } = await metaTenant();
    const code =
      "while (true) {\n  JSON.parse(JSON.stringify({ list: [1, 2, 3], text: 'x'.repeat(200) }));\n}";
    const { run, elapsed, others } = await runWhileServing(trpc, code);
    console.log(`an expensive endless loop stopped after ${elapsed} ms`);
    expect(run.error).toMatchObject({ name: "LimitExceeded", line: 1 });
    expect(run.error?.message).toContain(`computed for ${GUARD_BUSY_MS} ms without waiting`);
    expect(elapsed).toBeLessThan(10_000);
    expect(others.map((o) => o.status)).toEqual([200, 200]);
  });

  it("keeps a run failed when the code catches the guard's error and carries on", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      "try {\n  while (true) {}\n} catch (e) {\n  console.log('caught:', e.name);\n}\nreturn 'escaped';",
    );
    expect(run).toMatchObject({ ok: false, result: null, error: { name: "LimitExceeded", line: 2 } });
    expect(run.logs[0]?.message).toBe("caught: LimitExceeded");
  });

  it("ends unbounded recursion with a clear error at the function that recursed", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      "function down(n: number): number {\n  return down(n + 1) + 1;\n}\ndown(0);",
    );
    expect(run.error).toMatchObject({ name: "RangeError", line: 1 });
    expect(run.error?.message).toBe(
      "Maximum call stack size exceeded: the code recursed too deeply (unbounded recursion?)",
    );
  });

  it("ends exponential recursion that never overflows the stack", async () => {
    const { trpc } = await metaTenant();
    const { run, elapsed } = await runWhileServing(
      trpc,
      "const fork = (n: number): number => (n <= 0 ? 1 : fork(n - 1) + fork(n - 1));\nfork(200);",
    );
    expect(run.error).toMatchObject({ name: "LimitExceeded", line: 1 });
    expect(elapsed).toBeLessThan(10_000);
  });

  it("ends code that waits past its time limit, and code that waits for nothing", async () => {
    const { trpc } = await metaTenant();
    const sleeper = await runCode(
      trpc,
      "while (true) {\n  await new Promise((r) => setTimeout(r, 100));\n}",
      {
        timeoutMs: 500,
      },
    );
    expect(sleeper.error).toMatchObject({
      name: "TimeoutError",
      message: "the code ran longer than its time limit of 500 ms",
    });
    expect(sleeper.durationMs).toBeLessThan(3_000);
    const stuck = await runCode(trpc, "await new Promise(() => {});", { timeoutMs: 500 });
    expect(stuck.error?.name).toBe("TimeoutError");
  });
});

describe("what agent code cannot do", () => {
  it("cannot reach the network: fetch() fails", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      'const response = await fetch("https://example.com/");\nreturn response.status;',
    );
    expect(run.ok).toBe(false);
    expect(run.error).toMatchObject({ line: 1 });
    expect(run.error?.message).toContain("not permitted to access the internet");
  });

  it("cannot import modules, and may not use the guard's reserved names", async () => {
    const { trpc } = await metaTenant();
    const imported = await runCode(trpc, 'const { env } = await import("cloudflare:workers");\nreturn env;');
    expect(imported.error).toMatchObject({ name: "SyntaxError", line: 1, column: 23 });
    expect(imported.error?.message).toContain("import is not available in agent code");
    const reserved = await runCode(trpc, "const __troupe_tick = () => true;");
    expect(reserved.error).toMatchObject({ name: "SyntaxError", line: 1, column: 7 });
  });
});

describe("errors point at the agent's own code", () => {
  it("reports a syntax error's line and column", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      'const name: string = "Planner";\nconst steps = [\n  { name, order: 0 },,\n  { name: };\n',
    );
    expect(run).toMatchObject({
      ok: false,
      logs: [],
      calls: [],
      error: { name: "SyntaxError", line: 4, column: 11 },
    });
    const repeated = await runCode(trpc, "let total = 1;\nlet total = 2;");
    expect(repeated.error).toMatchObject({ name: "SyntaxError", line: 2, column: 5 });
    expect(repeated.error?.message).toBe("Identifier 'total' has already been declared");
  });

  it("says plainly when a for...of loop is given something that is not iterable", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      "const roles = { count: 2 };\nfor (const role of roles as any) console.log(role);",
    );
    expect(run.error).toMatchObject({
      name: "TypeError",
      message: 'for...of needs something iterable, not {\n  "count": 2\n}',
      line: 2,
    });
  });

  it("reports a runtime error where it happened, past stripped type annotations", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      "interface Plan { steps: string[] }\nconst plan: Plan | null = null as Plan | null;\nconsole.log(plan!.steps);",
    );
    expect(run.error).toEqual({
      name: "TypeError",
      message: "Cannot read properties of null (reading 'steps')",
      line: 3,
      column: 19,
    });
  });
});

describe("size limits", () => {
  it("truncates 10 MB of console output and says so", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      'const megabyte = "x".repeat(1024 * 1024);\nfor (let i = 0; i < 10; i++) console.log(megabyte);\nreturn "done";',
    );
    expect(run).toMatchObject({ ok: true, result: "done" });
    const kept = run.logs.slice(0, -1).reduce((sum, entry) => sum + entry.message.length, 0);
    expect(kept).toBe(MAX_LOG_CHARS);
    expect(run.logs.at(-1)).toEqual({
      level: "warn",
      message: `[troupe] console output truncated: ${10 * 1024 * 1024 - MAX_LOG_CHARS} more characters (9 whole calls) were dropped; the limit is ${MAX_LOG_CHARS} characters per run`,
    });
    const lines = await runCode(trpc, 'for (let i = 0; i < 5000; i++) console.info("line", i);');
    expect(lines.logs).toHaveLength(1001);
    expect(lines.logs.at(-1)?.message).toContain("(4000 whole calls) were dropped");
  });

  it("refuses an oversized argument, more meta calls than allowed, and oversized code", async () => {
    const { trpc } = await metaTenant();
    const big = await runCode(
      trpc,
      `await create_role({ name: "Big", basePrompt: "x".repeat(${MAX_ARGUMENT_CHARS}) });`,
    );
    expect(big.error).toMatchObject({ name: "LimitExceeded", line: 1, column: 7 });
    expect(big.error?.message).toContain(`the limit is ${MAX_ARGUMENT_CHARS}`);
    const chatty = await runCode(trpc, "for (let i = 0; ; i++) await list_roles();");
    expect(chatty.error?.message).toBe(
      `list_roles: this run already made ${MAX_META_CALLS} meta calls, the limit per run`,
    );
    expect(chatty.calls).toHaveLength(MAX_META_CALLS);
    const long = await errorOf(runCode(trpc, `// ${"x".repeat(MAX_CODE_BYTES)}`));
    expect(long).toMatchObject({
      code: "BAD_REQUEST",
      message: `code: must be at most ${MAX_CODE_BYTES} bytes`,
    });
    expect((await trpc.role.list.query()).items.map((r) => r.name)).toEqual(["Orchestration Designer"]);
  });

  it("truncates an oversized result and keeps a small one as JSON", async () => {
    const { trpc } = await metaTenant();
    const huge = await runCode(trpc, `return "y".repeat(${MAX_RESULT_CHARS * 2});`);
    expect(huge.ok).toBe(true);
    expect(String(huge.result)).toMatch(/^\[troupe\] result truncated: \d+ characters of JSON/);
    const small = await runCode(
      trpc,
      "return { answer: 42, when: new Date(0), big: 10n, list: [1, undefined] };",
    );
    expect(small.result).toEqual({
      answer: 42,
      when: "1970-01-01T00:00:00.000Z",
      big: "10n",
      list: [1, null],
    });
  });

  it("writes an object reached twice in full, and marks only an object inside itself as circular", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      `const shared = { score: 0.9 };
const loop: Record<string, unknown> = { name: "loop" };
loop.self = loop;
console.log({ a: shared, b: [shared] });
return { context: { Critic: shared }, stepLogs: [{ output: shared }], loop };`,
    );
    expect(run.logs.map((entry) => JSON.parse(entry.message))).toEqual([
      { a: { score: 0.9 }, b: [{ score: 0.9 }] },
    ]);
    expect(run.result).toEqual({
      context: { Critic: { score: 0.9 } },
      stepLogs: [{ output: { score: 0.9 } }],
      loop: { name: "loop", self: "[Circular]" },
    });
  });
});
