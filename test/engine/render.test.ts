// Rendering mappings against the context (durable-objects/engine/render.ts): whole templates keep their
// type, templates in text interpolate, mappings render deeply, and missing paths render empty with a warning.
import { describe, expect, it } from "vitest";
import { renderString, renderValue, resolvePath } from "../../durable-objects/engine/render";
import type { JsonValue } from "../../durable-objects/engine/types";

const context = {
  input: { userQuery: "How fast is WebAssembly?", topic: "WebAssembly performance", count: 3 },
  plan: { tasks: ["measure", "compare"], steps: 2, approved: true },
  "Step Name": { score: 0.9 },
  "Search GitHub": ["repo-a", "repo-b"],
  empty: "",
  zero: 0,
  nothing: null,
};

function render(text: string, output?: JsonValue) {
  const warnings: string[] = [];
  const scope = output === undefined ? { context } : { context, output };
  return { value: renderString(text, scope, warnings), warnings };
}

describe("resolvePath", () => {
  it("walks object keys and array indexes", () => {
    expect(resolvePath(context, ["plan", "tasks", 1])).toBe("compare");
    expect(resolvePath(context, ["Step Name", "score"])).toBe(0.9);
    expect(resolvePath(context, [])).toBe(context);
  });

  it("returns undefined for missing keys, out-of-range indexes and walks through non-objects", () => {
    expect(resolvePath(context, ["missing"])).toBeUndefined();
    expect(resolvePath(context, ["plan", "tasks", 5])).toBeUndefined();
    expect(resolvePath(context, ["input", "topic", "length"])).toBeUndefined();
    expect(resolvePath(context, ["nothing", "deeper"])).toBeUndefined();
    expect(resolvePath(undefined, ["a"])).toBeUndefined();
  });

  it("does not index an object by number", () => {
    expect(resolvePath({ a: { 0: "zero" } }, ["a", 0])).toBeUndefined();
    expect(resolvePath({ a: { 0: "zero" } }, ["a", "0"])).toBe("zero");
  });

  it("never resolves inherited properties such as constructor or __proto__", () => {
    expect(resolvePath(context, ["constructor"])).toBeUndefined();
    expect(resolvePath(context, ["plan", "toString"])).toBeUndefined();
    expect(resolvePath(context, ["__proto__"])).toBeUndefined();
  });
});

describe("renderString", () => {
  it("keeps the type of a value that is one whole template", () => {
    expect(render("{{context.plan}}").value).toEqual(context.plan);
    expect(render("{{context.plan.tasks}}").value).toEqual(["measure", "compare"]);
    expect(render("{{context.plan.steps}}").value).toBe(2);
    expect(render("{{context.plan.approved}}").value).toBe(true);
    expect(render("{{context.input.userQuery}}").value).toBe("How fast is WebAssembly?");
    expect(render("{{context.zero}}").value).toBe(0);
    expect(render("{{context.empty}}")).toEqual({ value: "", warnings: [] });
  });

  it("resolves every path form the guide shows", () => {
    expect(render("{{context.input.userQuery}}").value).toBe("How fast is WebAssembly?");
    expect(render("{{context['Step Name']}}").value).toEqual({ score: 0.9 });
    expect(render('{{context["Step Name"].score}}').value).toBe(0.9);
    expect(render("{{context.plan.tasks[0]}}").value).toBe("measure");
    expect(render("{{output}}", { a: { b: 42 } }).value).toEqual({ a: { b: 42 } });
    expect(render("{{output.a.b}}", { a: { b: 42 } }).value).toBe(42);
  });

  it("treats whitespace inside the braces as part of one whole template", () => {
    expect(render("{{  context.plan.tasks  }}").value).toEqual(["measure", "compare"]);
  });

  it("interpolates templates inside longer text, strings as they are", () => {
    expect(render("{{context.input.topic}} site:arxiv.org")).toEqual({
      value: "WebAssembly performance site:arxiv.org",
      warnings: [],
    });
    expect(render("Q: {{context.input.userQuery}} ({{context.input.count}} sources)").value).toBe(
      "Q: How fast is WebAssembly? (3 sources)",
    );
  });

  it("interpolates non-strings as JSON", () => {
    expect(render("plan: {{context.plan}}").value).toBe(`plan: ${JSON.stringify(context.plan)}`);
    expect(render("tasks={{context.plan.tasks}}").value).toBe('tasks=["measure","compare"]');
    expect(render("ok={{context.plan.approved}}, n={{context.zero}}").value).toBe("ok=true, n=0");
  });

  it("makes a whole template with text around it (even spaces) a string", () => {
    expect(render(" {{context.plan.steps}} ").value).toBe(" 2 ");
    expect(render("{{context.plan.steps}}{{context.zero}}").value).toBe("20");
  });

  it("renders a whole template that resolves to nothing as an empty string, with a warning", () => {
    expect(render("{{context.missing}}")).toEqual({
      value: "",
      warnings: ["{{context.missing}} resolved to nothing; rendered empty"],
    });
    expect(render("{{context.plan.tasks[9]}}").warnings).toEqual([
      "{{context.plan.tasks[9]}} resolved to nothing; rendered empty",
    ]);
  });

  it("renders a missing path inside text as empty and warns once per template", () => {
    expect(render("a={{context.x}} b={{ context.y.z }} c={{context.plan.steps}}")).toEqual({
      value: "a= b= c=2",
      warnings: [
        "{{context.x}} resolved to nothing; rendered empty",
        "{{context.y.z}} resolved to nothing; rendered empty",
      ],
    });
  });

  it("keeps a null value as null for a whole template and writes null inside text, without a warning", () => {
    expect(render("{{context.nothing}}")).toEqual({ value: null, warnings: [] });
    expect(render("[{{context.nothing}}]")).toEqual({ value: "[null]", warnings: [] });
  });

  it("warns about a missing output path used in an outputMapping", () => {
    expect(render("{{output.score}}", "plain text reply")).toEqual({
      value: "",
      warnings: ["{{output.score}} resolved to nothing; rendered empty"],
    });
  });

  it("leaves text without templates unchanged and an empty string empty", () => {
    expect(render("no templates { here }")).toEqual({ value: "no templates { here }", warnings: [] });
    expect(render("")).toEqual({ value: "", warnings: [] });
  });

  it("keeps a malformed template as literal text and warns with the parse error", () => {
    const result = render("{{context.plan");
    expect(result.value).toBe("{{context.plan");
    expect(result.warnings).toEqual([expect.stringContaining("is never closed")]);
  });

  it("refuses {{output}} where the scope has no output (an inputMapping), keeping the text", () => {
    const result = render("{{output}}");
    expect(result.value).toBe("{{output}}");
    expect(result.warnings).toEqual([expect.stringContaining('must start with "context"')]);
  });

  it("renders once: a value that itself looks like a template is inserted as it is", () => {
    const scope = { context: { quoted: "{{context.secret}}", secret: "s3cret" } };
    expect(renderString("{{context.quoted}}", scope, [])).toBe("{{context.secret}}");
    expect(renderString("say {{context.quoted}}", scope, [])).toBe("say {{context.secret}}");
  });

  it("appends to the warnings it is given, never clearing them", () => {
    const warnings = ["earlier"];
    renderString("{{context.gone}}", { context }, warnings);
    expect(warnings).toEqual(["earlier", "{{context.gone}} resolved to nothing; rendered empty"]);
  });
});

describe("renderValue", () => {
  it("renders Example 3's nested inputMapping, each whole template keeping its type", () => {
    const warnings: string[] = [];
    const mapping = {
      sources: {
        academic: "{{context['Step Name']}}",
        github: "{{context['Search GitHub']}}",
        query: "{{context.input.topic}} site:github.com",
      },
    };
    expect(renderValue(mapping, { context }, warnings)).toEqual({
      sources: {
        academic: { score: 0.9 },
        github: ["repo-a", "repo-b"],
        query: "WebAssembly performance site:github.com",
      },
    });
    expect(warnings).toEqual([]);
  });

  it("renders strings inside arrays and leaves numbers, booleans and null as they are", () => {
    const warnings: string[] = [];
    const mapping: JsonValue = {
      list: ["{{context.plan.tasks[1]}}", 7, false, null, ["{{context.input.count}}"]],
      n: 1.5,
      flag: true,
      none: null,
    };
    expect(renderValue(mapping, { context }, warnings)).toEqual({
      list: ["compare", 7, false, null, [3]],
      n: 1.5,
      flag: true,
      none: null,
    });
  });

  it("renders a top-level string or scalar", () => {
    expect(renderValue("{{context.plan.steps}}", { context }, [])).toBe(2);
    expect(renderValue(5, { context }, [])).toBe(5);
    expect(renderValue(null, { context }, [])).toBeNull();
  });

  it("gathers a warning for every missing path at any depth", () => {
    const warnings: string[] = [];
    const rendered = renderValue(
      { a: "{{context.nope}}", b: { c: ["x {{context.gone.deep}}"] } },
      { context },
      warnings,
    );
    expect(rendered).toEqual({ a: "", b: { c: ["x "] } });
    expect(warnings).toEqual([
      "{{context.nope}} resolved to nothing; rendered empty",
      "{{context.gone.deep}} resolved to nothing; rendered empty",
    ]);
  });

  it("does not render keys and does not change the mapping it is given", () => {
    const mapping = { "{{context.plan}}": "{{context.plan.steps}}" };
    const copy = structuredClone(mapping);
    expect(renderValue(mapping, { context }, [])).toEqual({ "{{context.plan}}": 2 });
    expect(mapping).toEqual(copy);
  });
});
