// The transform on its own (no isolate): where the guard goes, what agent code may not contain, and how
// positions in the loaded module map back to the agent's TypeScript.
import { describe, expect, it } from "vitest";
import { instrument } from "../../worker/agent-code/instrument";
import { decodeColumns } from "../../worker/agent-code/positions";
import { compileAgentCode } from "../../worker/agent-code/transform";

const guarded = (code: string) => {
  const result = instrument(code);
  if (!result.ok) throw new Error(result.message);
  return result.code
    .replaceAll("__troupe_tick", "T")
    .replaceAll("__troupe_iter", "I")
    .replaceAll("__troupe_aiter", "A");
};

describe("the guard's insertions", () => {
  it.each([
    ["while (true) {}", "while (T() && (true)) {}"],
    ["do x++; while (x < 3)", "do x++; while (T() && (x < 3))"],
    ["for (;;) {}", "for (;T();) {}"],
    ["for (let i = 0; i < n; i++) f(i)", "for (let i = 0; T() && (i < n); i++) f(i)"],
    ["for (const x of xs) f(x)", "for (const x of I(xs)) f(x)"],
    ["for await (const x of feed()) f(x)", "for await (const x of A(feed())) f(x)"],
    ["for (const of of ofs) {}", "for (const of of I(ofs)) {}"],
    ["for (const key in object) {}", "for (const key in object) {}"],
  ])("guards the loop %s", (code, expected) => {
    expect(guarded(code)).toBe(expected);
  });

  it.each([
    ["function f(a) { return a }", "function f(a) {T(); return a }"],
    ["const f = async (a = () => 1) => a", "const f = async (a = () => (T(), 1)) => (T(), a)"],
    ["const curry = a => b => a + b", "const curry = a => (T(), b => (T(), a + b))"],
    [
      "const o = { m() {}, get g() { return 1 }, p: () => ({ a: 1 }) }",
      "const o = { m() {T();}, get g() {T(); return 1 }, p: () => (T(), ({ a: 1 })) }",
    ],
    [
      "class C extends B { constructor() { super() } static { init() } }",
      "class C extends B { constructor() {T(); super() } static { init() } }",
    ],
    ["function* g() { yield* g() }", "function* g() {T(); yield* g() }"],
  ])("guards the function entries of %s", (code, expected) => {
    expect(guarded(code)).toBe(expected);
  });

  it("keeps every line break, so line numbers do not move", () => {
    const code = "const a = 1;\nwhile (a) {\n  const f = (x) =>\n    x + 1;\n}\n";
    expect(guarded(code).split("\n")).toHaveLength(code.split("\n").length);
  });

  it.each([
    ['import fs from "node:fs"; fs.readFileSync("x")', "import is not available in agent code"],
    ['const m = await import("cloudflare:workers")', "import is not available in agent code"],
    ["export const x = 1", "export is not available in agent code"],
    ["let __troupe_tick = () => true", "names starting with __troupe are reserved"],
  ])("refuses %s", (code, message) => {
    const result = instrument(code);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
  });
});

describe("compiling agent code", () => {
  it("strips types and keeps top-level await and return inside one async function", () => {
    const compiled = compileAgentCode(
      "const roles: string[] = await list_roles();\nreturn roles as unknown;",
    );
    expect(compiled.ok && compiled.module.split("\n").slice(1, 3)).toEqual(["return roles ;", "}; }"]);
    expect(compiled.ok && compiled.module.split("\n")[0]).toMatch(
      /async function \(\) \{const roles = await list_roles\(\);$/,
    );
  });

  it("reports syntax errors in the agent's own lines and columns", () => {
    expect(compileAgentCode("const ok = 1;\nconst broken = ;")).toEqual({
      ok: false,
      error: { name: "SyntaxError", message: "Unexpected token", line: 2, column: 16 },
    });
    expect(compileAgentCode("type Id = string;\nconst id: Id = `x;")).toMatchObject({
      ok: false,
      error: { name: "SyntaxError", message: "Unterminated template", line: 2 },
    });
  });

  it("maps a runtime position back through the wrapper, the guard and stripped annotations", () => {
    const compiled = compileAgentCode(
      "const n: number = 1;\nwhile (n) { const label: string = 'x'; label.foo.bar; }",
    );
    if (!compiled.ok) throw new Error("expected to compile");
    const line2 = compiled.module.split("\n")[1] ?? "";
    const bar = line2.indexOf(".bar") + 2; // the 1-based column of "bar" in the loaded module
    expect(compiled.position({ line: 2, column: bar })).toEqual({ line: 2, column: 50 });
    const prefixed = compiled.module.split("\n")[0]?.indexOf("const n") ?? 0;
    expect(compiled.position({ line: 1, column: prefixed + 1 })).toEqual({ line: 1, column: 1 });
  });

  it("decodes source map columns", () => {
    expect(decodeColumns("AAAA,MAAM;AACA,EAAE")).toEqual([
      [
        [0, 0],
        [6, 6],
      ],
      [
        [0, 6],
        [2, 8],
      ],
    ]);
  });
});
