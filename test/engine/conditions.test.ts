// Step conditions (durable-objects/engine/conditions.ts): every operator true, false and on a type
// mismatch, which is false plus a warning and never a crash.
import { describe, expect, it } from "vitest";
import { evaluateCondition } from "../../durable-objects/engine/conditions";
import type { JsonValue } from "../../durable-objects/engine/types";
import type { ConditionOperator, StepCondition } from "../../worker/schemas/orchestration";

const context: Record<string, JsonValue> = {
  input: { topic: "WebAssembly", tags: ["fast", "portable"] },
  testResults: { passed: 0.5, failures: ["login fails"], summary: "1 of 2 passed" },
  Critic: { score: 0.7 },
  "Run Tests": { passed: true },
  code: "export function LoginForm() {}",
  empty: "",
  zero: 0,
  no: false,
  nothing: null,
  list: [1, { id: 2 }, "three"],
  flags: { beta: true },
};

function check(field: string, operator: ConditionOperator, value: JsonValue = null, ctx = context) {
  const condition: StepCondition = { field, operator, value };
  return evaluateCondition(condition, ctx);
}
const passes = (field: string, operator: ConditionOperator, value: JsonValue = null) =>
  check(field, operator, value).pass;

function expectMismatch(field: string, operator: ConditionOperator, value: JsonValue) {
  const result = check(field, operator, value);
  expect(result.pass).toBe(false);
  expect(result.warning).toMatch(/type mismatch, treated as false/);
  expect(result.reason).toMatch(/the types cannot be compared/);
}

describe("evaluateCondition", () => {
  describe("exists / not_exists", () => {
    it.each(["code", "testResults.passed", "empty", "zero", "no", "list[1].id"])("%s exists", (field) => {
      expect(passes(field, "exists")).toBe(true);
      expect(passes(field, "not_exists")).toBe(false);
    });
    it.each(["missing", "testResults.missing", "nothing", "list[9]", "code.length"])(
      "%s does not exist",
      (field) => {
        expect(passes(field, "exists")).toBe(false);
        expect(passes(field, "not_exists")).toBe(true);
      },
    );
    it("never warns: existence has no types to mismatch", () => {
      expect(check("missing", "exists").warning).toBeUndefined();
      expect(check("missing", "not_exists").warning).toBeUndefined();
    });
  });

  describe("== and !=", () => {
    it.each<[string, JsonValue]>([
      ["testResults.passed", 0.5],
      ["code", "export function LoginForm() {}"],
      ["no", false],
      ["nothing", null],
      ["input.tags", ["fast", "portable"]],
      ["flags", { beta: true }],
      ["list[1]", { id: 2 }],
    ])("%s == %j", (field, value) => {
      expect(passes(field, "==", value)).toBe(true);
      expect(passes(field, "!=", value)).toBe(false);
    });
    it.each<[string, JsonValue]>([
      ["testResults.passed", 1],
      ["code", "something else"],
      ["zero", false],
      ["zero", "0"],
      ["empty", null],
      ["input.tags", ["portable", "fast"]],
      ["input.tags", { 0: "fast", 1: "portable" }],
      ["flags", { beta: true, extra: 1 }],
      ["missing", null],
    ])("%s != %j", (field, value) => {
      expect(passes(field, "==", value)).toBe(false);
      expect(passes(field, "!=", value)).toBe(true);
    });
    it("compares values of different types as unequal, without a warning", () => {
      expect(check("zero", "==", "0").warning).toBeUndefined();
      expect(check("zero", "!=", "0")).toMatchObject({ pass: true });
    });
  });

  describe("< <= > >=", () => {
    it.each<[ConditionOperator, JsonValue, boolean]>([
      ["<", 1, true],
      ["<", 0.5, false],
      ["<", 0.1, false],
      ["<=", 0.5, true],
      ["<=", 0.4, false],
      [">", 0.4, true],
      [">", 0.5, false],
      [">=", 0.5, true],
      [">=", 0.6, false],
    ])("0.5 %s %j is %s", (operator, value, expected) => {
      expect(check("testResults.passed", operator, value)).toMatchObject({ pass: expected });
      expect(check("testResults.passed", operator, value).warning).toBeUndefined();
    });
    it("compares strings lexicographically", () => {
      expect(passes("input.topic", "<", "Z")).toBe(true);
      expect(passes("input.topic", ">", "Z")).toBe(false);
      expect(passes("input.topic", ">=", "WebAssembly")).toBe(true);
    });
    it.each<[string, JsonValue]>([
      ["testResults.passed", "1"],
      ["code", 3],
      ["['Run Tests'].passed", 1],
      ["list", 2],
      ["nothing", 0],
      ["missing", 1],
    ])("treats %s < %j as a type mismatch", (field, value) => {
      expectMismatch(field, "<", value);
      expectMismatch(field, ">=", value);
    });
  });

  describe("contains / not_contains", () => {
    it.each<[string, JsonValue]>([
      ["code", "LoginForm"],
      ["code", ""],
      ["input.tags", "fast"],
      ["list", { id: 2 }],
      ["list", 1],
      ["flags", "beta"],
    ])("%s contains %j", (field, value) => {
      expect(passes(field, "contains", value)).toBe(true);
      expect(passes(field, "not_contains", value)).toBe(false);
    });
    it.each<[string, JsonValue]>([
      ["code", "Signup"],
      ["input.tags", "slow"],
      ["list", { id: 3 }],
      ["list", "1"],
      ["flags", "alpha"],
    ])("%s does not contain %j", (field, value) => {
      expect(passes(field, "contains", value)).toBe(false);
      expect(passes(field, "not_contains", value)).toBe(true);
    });
    it.each<[string, JsonValue]>([
      ["code", 3],
      ["testResults.passed", 0],
      ["flags", 1],
      ["missing", "x"],
      ["nothing", "x"],
      ["no", false],
    ])("treats %s contains %j as a type mismatch for both operators", (field, value) => {
      expectMismatch(field, "contains", value);
      expectMismatch(field, "not_contains", value);
    });
  });

  describe("in", () => {
    it("is true when the value's list holds the field's value, compared deeply", () => {
      expect(passes("input.topic", "in", ["Rust", "WebAssembly"])).toBe(true);
      expect(passes("list[1]", "in", [{ id: 2 }])).toBe(true);
      expect(passes("nothing", "in", [null])).toBe(true);
    });
    it("is false when the list does not hold it, also for a missing field", () => {
      expect(passes("input.topic", "in", ["Rust", "Go"])).toBe(false);
      expect(passes("zero", "in", ["0", false])).toBe(false);
      expect(passes("missing", "in", ["x"])).toBe(false);
      expect(passes("input.topic", "in", [])).toBe(false);
    });
    it("treats a value that is not a list as a type mismatch", () => {
      expectMismatch("input.topic", "in", "WebAssembly");
      expectMismatch("zero", "in", null);
    });
  });

  describe("matches", () => {
    it("tests the field's string against the regular expression", () => {
      expect(passes("code", "matches", "^export function \\w+\\(")).toBe(true);
      expect(passes("testResults.summary", "matches", "\\d+ of \\d+ passed$")).toBe(true);
      expect(passes("code", "matches", "^import")).toBe(false);
      expect(passes("empty", "matches", "^$")).toBe(true);
    });
    it.each<[string, JsonValue]>([
      ["testResults.passed", "0\\.5"],
      ["missing", ".*"],
      ["input.tags", "fast"],
      ["code", 1],
    ])("treats %s matches %j as a type mismatch", (field, value) => {
      expectMismatch(field, "matches", value);
    });
    it("turns an invalid regular expression into false with a warning instead of throwing", () => {
      const result = check("code", "matches", "([unclosed");
      expect(result.pass).toBe(false);
      expect(result.warning).toMatch(/regular expression/);
      expect(result.reason).toMatch(/is false/);
    });
    it("runs RE2: ^(a+)+$ against 40 a's and a b is false at once, with no backtracking", () => {
      const ctx = { text: `${"a".repeat(40)}b`, ok: "a".repeat(40) };
      expect(check("text", "matches", "^(a+)+$", ctx)).toEqual({
        pass: false,
        reason: `condition text ("${ctx.text}") matches "^(a+)+$" is false`,
      });
      expect(check("ok", "matches", "^(a+)+$", ctx).pass).toBe(true);
    });
    it("treats a pattern RE2 refuses (a backreference in a plan saved before RE2) as false with a warning", () => {
      const result = check("code", "matches", "(export).*\\1");
      expect(result.pass).toBe(false);
      expect(result.warning).toContain("is not a regular expression RE2 accepts (invalid escape sequence");
    });
    it("reads at most 10,000 characters: a longer value is false with a warning naming the limit", () => {
      const long = { text: "b".repeat(10_001) };
      const result = check("text", "matches", "b", long);
      expect(result.pass).toBe(false);
      expect(result.warning).toContain(
        "the value is 10001 characters; matches reads at most 10000, so the condition is false",
      );
      // The value in the reason is cut, so a long field does not fill the step's record.
      expect(result.reason.length).toBeLessThan(600);
      expect(check("text", "matches", "b", { text: "b".repeat(10_000) }).pass).toBe(true);
    });
  });

  describe("field paths", () => {
    it("decides the guide's Example 4: Fix Failures runs when testResults.passed is 0.5, not when it is 1.0", () => {
      const fixFailures = { field: "testResults.passed", operator: "<" as const, value: 1.0 };
      expect(evaluateCondition(fixFailures, { testResults: { passed: 0.5 } })).toEqual({
        pass: true,
        reason: "condition testResults.passed (0.5) < 1 is true",
      });
      expect(evaluateCondition(fixFailures, { testResults: { passed: 1.0 } })).toEqual({
        pass: false,
        reason: "condition testResults.passed (1) < 1 is false",
      });
    });

    it("decides the Ping-Pong pattern's Critic.score < 0.8", () => {
      expect(passes("Critic.score", "<", 0.8)).toBe(true);
      expect(
        evaluateCondition({ field: "Critic.score", operator: "<", value: 0.8 }, { Critic: { score: 0.9 } })
          .pass,
      ).toBe(false);
    });

    it("accepts a leading context. and a leading quoted step name", () => {
      expect(passes("context.testResults.passed", "==", 0.5)).toBe(true);
      expect(passes("context['Run Tests'].passed", "==", true)).toBe(true);
      expect(passes("['Run Tests'].passed", "==", true)).toBe(true);
      expect(passes("context.input.tags[1]", "==", "portable")).toBe(true);
    });

    it("reads a key named context literally when the context has one", () => {
      const withContextKey = { context: { level: 3 }, level: 1 };
      expect(check("context.level", "==", 3, withContextKey).pass).toBe(true);
    });

    it("describes a missing field as nothing in the reason", () => {
      expect(check("missing", "exists").reason).toBe("condition missing (nothing) exists null is false");
    });

    it("treats a malformed field as false with the parse error as a warning", () => {
      const result = check("testResults..passed", "exists");
      expect(result.pass).toBe(false);
      expect(result.reason).toBe("condition field is malformed");
      expect(result.warning).toMatch(/expected a name after '\.'/);
    });
  });
});
