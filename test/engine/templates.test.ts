// The template and path grammar of durable-objects/engine/templates.ts, as pure functions: every syntax the
// usage guide shows, and the malformed inputs that validation must refuse with a message saying where.
import { describe, expect, it } from "vitest";
import { parsePath, parseTemplate, stringLeaves } from "../../durable-objects/engine/templates";

function ref(root: string, path: (string | number)[], source: string) {
  return { kind: "ref", root, path, source };
}
function text(value: string) {
  return { kind: "text", text: value };
}

describe("parseTemplate", () => {
  it.each([
    ["{{context.input.userQuery}}", [ref("context", ["input", "userQuery"], "context.input.userQuery")]],
    ["{{context.plan}}", [ref("context", ["plan"], "context.plan")]],
    ["{{context['Step Name']}}", [ref("context", ["Step Name"], "context['Step Name']")]],
    ['{{context["Step Name"]}}', [ref("context", ["Step Name"], 'context["Step Name"]')]],
    ["{{context.plan.tasks[0]}}", [ref("context", ["plan", "tasks", 0], "context.plan.tasks[0]")]],
    ["{{output}}", [ref("output", [], "output")]],
    ["{{output.a.b}}", [ref("output", ["a", "b"], "output.a.b")]],
    [
      "{{context.testResults.failures}}",
      [ref("context", ["testResults", "failures"], "context.testResults.failures")],
    ],
    [
      "{{context['Search Academic Papers'].items[12].title}}",
      [
        ref(
          "context",
          ["Search Academic Papers", "items", 12, "title"],
          "context['Search Academic Papers'].items[12].title",
        ),
      ],
    ],
  ])("parses the guide's syntax %s", (source, parts) => {
    expect(parseTemplate(source)).toEqual({ ok: true, value: parts });
  });

  it("ignores whitespace inside the braces and keeps the trimmed path as the source", () => {
    expect(parseTemplate("{{   context.plan \t}}")).toEqual({
      ok: true,
      value: [ref("context", ["plan"], "context.plan")],
    });
    expect(parseTemplate("{{ output }}")).toEqual({ ok: true, value: [ref("output", [], "output")] });
  });

  it("splits several references mixed with text, keeping the text exactly", () => {
    expect(parseTemplate("Review {{context.code}} against {{ context.plan }}.\n")).toEqual({
      ok: true,
      value: [
        text("Review "),
        ref("context", ["code"], "context.code"),
        text(" against "),
        ref("context", ["plan"], "context.plan"),
        text(".\n"),
      ],
    });
  });

  it("parses Example 3's query with a reference followed by text", () => {
    expect(parseTemplate("{{context.input.topic}} site:arxiv.org")).toEqual({
      ok: true,
      value: [ref("context", ["input", "topic"], "context.input.topic"), text(" site:arxiv.org")],
    });
  });

  it("parses adjacent references with nothing between them", () => {
    expect(parseTemplate("{{context.a}}{{context.b}}")).toEqual({
      ok: true,
      value: [ref("context", ["a"], "context.a"), ref("context", ["b"], "context.b")],
    });
  });

  it("returns plain text unchanged and an empty string as no parts", () => {
    expect(parseTemplate("just words { and } single braces")).toEqual({
      ok: true,
      value: [text("just words { and } single braces")],
    });
    expect(parseTemplate("")).toEqual({ ok: true, value: [] });
  });

  it("keeps a lone closing brace after a reference as text", () => {
    expect(parseTemplate("{{context.a}}}")).toEqual({
      ok: true,
      value: [ref("context", ["a"], "context.a"), text("}")],
    });
  });

  it("accepts only the roots it is given", () => {
    expect(parseTemplate("{{context.plan}}", ["context"]).ok).toBe(true);
    const output = parseTemplate("{{output}}", ["context"]);
    expect(output).toEqual({ ok: false, error: expect.stringContaining('must start with "context"') });
    expect(output.ok || output.error).toContain("only in outputMapping");
    expect(parseTemplate("{{input.topic}}", ["input", "context"])).toEqual({
      ok: true,
      value: [ref("input", ["topic"], "input.topic")],
    });
  });

  it.each([
    ["{{context.plan", /"\{\{" at position 1 is never closed/],
    ["Plan: {{context.plan", /"\{\{" at position 7 is never closed/],
    ["{{ }}", /empty template "\{\{\}\}" at position 1/],
    ["{{}}", /empty template/],
    ["a {{context.a}} {{  }}", /empty template "\{\{\}\}" at position 17/],
    ["{{ctx.plan}}", /template \{\{ctx\.plan\}\} must start with "context" or "output"/],
    ["{{plan}}", /must start with "context" or "output"/],
    ["{{context..plan}}", /malformed template \{\{context\.\.plan\}\}: expected a name after '\.'/],
    ["{{context.}}", /expected a name after '\.'/],
    ["{{context.plan[}}", /expected a number or a quoted key after '\['/],
    ["{{context.plan[0}}", /expected '\]'/],
    ["{{context.plan[-1]}}", /expected a number or a quoted key/],
    ["{{context['Step Name}}", /unterminated quoted key/],
    ["{{context['']}}", /empty quoted key/],
    ["{{context.plan tasks}}", /unexpected ' '/],
    ["{{context-plan}}", /unexpected '-'/],
    ["{{1context}}", /expected a name at position 1/],
    ["{{{context.plan}}", /expected a name/],
    ["context.plan}}", /"\}\}" at position 13 has no opening "\{\{"/],
    ["{context.plan}}", /"\}\}" at position 14 has no opening/],
    ["{{context.a}} and b}}", /"\}\}" at position 20 has no opening/],
    ["a}} {{context.b}}", /"\}\}" at position 2 has no opening/],
  ])("refuses %j", (source, error) => {
    const parsed = parseTemplate(source);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(error);
  });
});

describe("parsePath", () => {
  it.each([
    ["context.plan.tasks[0]", ["context", "plan", "tasks", 0]],
    ["testResults.passed", ["testResults", "passed"]],
    ["Critic.score", ["Critic", "score"]],
    ["code", ["code"]],
    ["context['Generate Code']", ["context", "Generate Code"]],
    ['a["b c"][2].d', ["a", "b c", 2, "d"]],
    ["_private.$dollar.x1", ["_private", "$dollar", "x1"]],
    ["a[007]", ["a", 7]],
    ["a['x]y']", ["a", "x]y"]],
  ])("parses %s", (source, segments) => {
    expect(parsePath(source)).toEqual({ ok: true, value: segments });
  });

  it("allows a leading quoted key only when asked, for condition fields naming a step", () => {
    expect(parsePath("['Run Tests'].passed", true)).toEqual({ ok: true, value: ["Run Tests", "passed"] });
    expect(parsePath("[0].x", true)).toEqual({ ok: true, value: [0, "x"] });
    expect(parsePath("['Run Tests'].passed")).toEqual({
      ok: false,
      error: `expected a name at position 1 of "['Run Tests'].passed"`,
    });
  });

  it.each([
    ["", "expected a name at position 1"],
    [".a", "expected a name at position 1"],
    ["a.", "expected a name after '.' at position 3"],
    ["a..b", "expected a name after '.' at position 3"],
    ["a[", "expected a number or a quoted key after '[' at position 3"],
    ["a[x]", "expected a number or a quoted key after '[' at position 3"],
    ["a[1", "expected ']' at position 4"],
    ["a['b'", "expected ']' at position 6"],
    ["a['b", "unterminated quoted key at position 3"],
    ["9lives", "expected a name at position 1"],
  ])("refuses %j: %s", (source, error) => {
    expect(parsePath(source)).toEqual({ ok: false, error: `${error} of "${source}"` });
  });

  it.each([
    [
      "a b",
      `unexpected ' ' at position 2 of "a b"; a name with spaces or punctuation goes in brackets: ['a b']`,
    ],
    [
      "a.b c",
      `unexpected ' ' at position 4 of "a.b c"; a name with spaces or punctuation goes in brackets: ['b c']`,
    ],
    [
      "Sign-off.approved",
      `unexpected '-' at position 5 of "Sign-off.approved"; a name with spaces or punctuation goes in brackets: ['Sign-off']`,
    ],
  ])("refuses %j and shows the bracketed name to write instead", (source, error) => {
    expect(parsePath(source)).toEqual({ ok: false, error });
  });
});

describe("stringLeaves", () => {
  it("yields every string in Example 3's nested inputMapping with its path", () => {
    const inputMapping = {
      sources: {
        academic: "{{context['Search Academic Papers']}}",
        docs: "{{context['Search Technical Docs']}}",
        github: "{{context['Search GitHub']}}",
      },
    };
    expect([...stringLeaves(inputMapping)]).toEqual([
      [["sources", "academic"], "{{context['Search Academic Papers']}}"],
      [["sources", "docs"], "{{context['Search Technical Docs']}}"],
      [["sources", "github"], "{{context['Search GitHub']}}"],
    ]);
  });

  it("walks arrays by index and skips numbers, booleans and nulls", () => {
    const value = { list: ["a", 1, { deep: ["b"] }], flag: true, none: null, n: 3, s: "c" };
    expect([...stringLeaves(value)]).toEqual([
      [["list", 0], "a"],
      [["list", 2, "deep", 0], "b"],
      [["s"], "c"],
    ]);
  });

  it("yields a top-level string at the empty path, prefixed by a given base path", () => {
    expect([...stringLeaves("x")]).toEqual([[[], "x"]]);
    expect([...stringLeaves({ k: "v" }, ["inputMapping"])]).toEqual([[["inputMapping", "k"], "v"]]);
    expect([...stringLeaves(42)]).toEqual([]);
    expect([...stringLeaves({})]).toEqual([]);
  });
});
