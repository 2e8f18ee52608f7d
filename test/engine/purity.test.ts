/// <reference types="vite/client" />
// The engine folder stays pure: every file in durable-objects/engine/ imports only its siblings (no
// worker/, no cloudflare:*, no node:*, no packages but re2js, which only computes) and reads no clock or
// random source — time, the runner and new ids come in as arguments. The sources are bundled as text,
// since tests run inside workerd.
import { describe, expect, it } from "vitest";
import { engineViolations, mask } from "../helpers/engine-purity";

const sources = import.meta.glob<string>("../../durable-objects/engine/*.ts", {
  query: "?raw",
  import: "default",
  eager: true,
});
const files = Object.entries(sources).map(
  ([path, source]) => [path.split("/").at(-1) ?? path, source] as const,
);

describe("the engine folder", () => {
  it("is what the check reads: every engine module, as text", () => {
    const names = files.map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining(["decide.ts", "walk.ts", "events.ts", "types.ts", "retry.ts"]),
    );
    expect(names.length).toBeGreaterThanOrEqual(20);
    for (const [, source] of files) expect(source).toMatch(/^\/\/ /);
  });

  it.each(files)("%s imports only engine modules and calls no clock or random source", (name, source) => {
    expect(engineViolations(name, source)).toEqual([]);
  });
});

describe("the purity check", () => {
  const check = (source: string) => engineViolations("sample.ts", source).map((v) => `${v.line}: ${v.what}`);

  it.each([
    ["const now = Date.now();", "Date.now"],
    ["const at = new Date();", "new Date() without a time"],
    ["const at = new Date;", "new Date() without a time"],
    ["const text = Date();", "Date() without new (the current time as text)"],
    ["const t = performance.now();", "performance.now"],
    ["const r = Math.random();", "Math.random"],
    ["const id = crypto.randomUUID();", "crypto"],
    ["const bytes = crypto.getRandomValues(new Uint8Array(4));", "crypto"],
    ["await fetch(url);", "fetch"],
    ["setTimeout(() => {}, 10);", "a timer"],
    ["const m = await import('./decide');", "a dynamic import"],
    ["const fs = require('node:fs');", "require"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
    ["const s = `at ${Date.now()}`;", "Date.now"],
  ])("finds %s", (source, what) => {
    expect(check(source)).toEqual([`1: ${what}`]);
  });

  it.each([
    ['import { env } from "cloudflare:workers";', 'imports "cloudflare:workers"'],
    ['import { createHash } from "node:crypto";', 'imports "node:crypto"'],
    ['import type { Env } from "../../worker/env";', 'imports "../../worker/env"'],
    ['import { z } from "zod";', 'imports "zod"'],
    ['export { decide } from "../execution/object";', 'imports "../execution/object"'],
    ["import './side-effect/deep';", 'imports "./side-effect/deep"'],
  ])("finds the import in %s", (source, what) => {
    expect(check(source)).toEqual([`1: ${what}`]);
  });

  it("allows sibling imports, times passed in, and words in comments, strings and regular expressions", () => {
    const source = [
      "// Pure: no Date.now, no Math.random, no fetch(), no crypto.randomUUID().",
      'import { decide } from "./decide";',
      'import type { Plan } from "./types.ts";',
      "/* new Date() is the shell's job */",
      "const iso = new Date(wait.until).toISOString();",
      "const until = Date.parse(rendered);",
      'const hint = "call Date.now() in the shell, not here";',
      "const pattern = /```(?:json)\\s*\\n([\\s\\S]*?)\\n?```/g;",
      'const quote = /^[[{"]/.test(text);',
      "const half = total / 2 / count;",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      "const label = `${step.name} // Math.random()`;",
      "const from = 'import \"zod\"';",
    ].join("\n");
    expect(check(source)).toEqual([]);
  });

  it("reports the line of each violation, after comments and strings that span lines", () => {
    const source = ["/**", " * Date.now()", " */", "const a = `line", "two`;", "const b = Date.now();"].join(
      "\n",
    );
    expect(check(source)).toEqual(["6: Date.now"]);
  });

  it("keeps offsets when it blanks comments, strings and regular expressions", () => {
    const source = 'const a = "Date.now()"; // Math.random()\nconst b = /x\\/y/.test(a);';
    const { code, bare } = mask(source);
    expect(code).toHaveLength(source.length);
    expect(bare).toHaveLength(source.length);
    expect(bare.split("\n")).toEqual([
      `const a = "${" ".repeat(10)}";${" ".repeat(17)}`,
      "const b = /    /.test(a);",
    ]);
    expect(code).toContain('"Date.now()"');
  });
});
