// Turning a model reply into a step's output (durable-objects/engine/output.ts): JSON replies and a single
// fenced json block are parsed, anything else is text; outputFormat "json" refuses text, "text" parses nothing.
import { describe, expect, it } from "vitest";
import { parseOutput } from "../../durable-objects/engine/output";

const auto = (text: string) => parseOutput(text, "auto");

describe("parseOutput", () => {
  it.each([
    ['{"passed": 1.0, "failures": []}', { passed: 1, failures: [] }],
    ['[1, "two", {"three": 3}]', [1, "two", { three: 3 }]],
    ["42", 42],
    ["-0.5", -0.5],
    ['"a JSON string"', "a JSON string"],
    ["true", true],
    ["false", false],
    ["null", null],
    ['  \n {"trimmed": true} \n\t', { trimmed: true }],
  ])("parses the JSON reply %j", (text, output) => {
    expect(auto(text)).toEqual({ ok: true, output });
  });

  it.each([
    "The tests pass.",
    "",
    "   ",
    "1. Plan the form\n2. Write it",
    "123abc",
    "-",
    "true story",
    "nullable",
    '{"unterminated": ',
    "[not json]",
    "'single quoted'",
  ])("keeps the non-JSON reply %j as text, exactly", (text) => {
    expect(auto(text)).toEqual({ ok: true, output: text });
  });

  it("parses the one fenced json block in a reply with prose around it", () => {
    const text = 'Here are the results:\n```json\n{"passed": 0.5, "failures": ["login"]}\n```\nLet me know.';
    expect(auto(text)).toEqual({ ok: true, output: { passed: 0.5, failures: ["login"] } });
  });

  it("accepts an upper-case JSON fence, CRLF line ends and a closing fence on the last line", () => {
    expect(auto('```JSON\n{"a": 1}\n```')).toEqual({ ok: true, output: { a: 1 } });
    expect(auto('```json\r\n{"a": 2}\r\n```')).toEqual({ ok: true, output: { a: 2 } });
    expect(auto('```json\n{"a": 3}```')).toEqual({ ok: true, output: { a: 3 } });
  });

  it("ignores fences of other languages", () => {
    const text = 'Code:\n```ts\nconst a = {"a": 1};\n```';
    expect(auto(text)).toEqual({ ok: true, output: text });
    const mixed = 'Code:\n```ts\nlet x = 1;\n```\nResult:\n```json\n{"x": 1}\n```';
    expect(auto(mixed)).toEqual({ ok: true, output: { x: 1 } });
  });

  it("keeps a reply with two json blocks as text, since it is unclear which one is the answer", () => {
    const text = '```json\n{"a": 1}\n```\nor\n```json\n{"a": 2}\n```';
    expect(auto(text)).toEqual({ ok: true, output: text });
  });

  it("keeps a reply whose fenced json block does not parse as text", () => {
    const text = "```json\n{not: json}\n```";
    expect(auto(text)).toEqual({ ok: true, output: text });
  });

  describe('with outputFormat "json"', () => {
    it("parses JSON and fenced JSON the same way", () => {
      expect(parseOutput('{"ok": true}', "json")).toEqual({ ok: true, output: { ok: true } });
      expect(parseOutput("Sure:\n```json\n[1]\n```", "json")).toEqual({ ok: true, output: [1] });
    });

    it.each(["The tests pass.", "```json\n{broken\n```", "", '```json\n{"a":1}\n```\n```json\n{"a":2}\n```'])(
      "fails the attempt with a retryable invalid_output error for %j",
      (text) => {
        expect(parseOutput(text, "json")).toEqual({
          ok: false,
          error: {
            kind: "invalid_output",
            message: "the step requires JSON output, but the reply is not JSON",
            retryable: true,
          },
        });
      },
    );
  });

  describe('with outputFormat "text"', () => {
    it.each(['{"a": 1}', "42", "```json\n{}\n```", "plain"])("keeps %j as text", (text) => {
      expect(parseOutput(text, "text")).toEqual({ ok: true, output: text });
    });
  });
});
