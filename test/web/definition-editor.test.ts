// The dashboard's definition editor, minus the browser: where an issue's path sits in the JSON text, and
// that the editor's local check reports exactly what the API answers for the same definition.
import { describe, expect, it } from "vitest";
import { checkDefinition, stepIndexOf } from "../../web/src/lib/definition-check";
import { jsonLocations, parentPath, rangeOf } from "../../web/src/lib/json-locations";
import { errorOf, newTenant } from "../helpers/client";
import { example2 } from "../helpers/guide";

const text = JSON.stringify(
  { name: "X", steps: [{ name: "A", condition: { field: "a", operator: "equals" } }, { "odd key": 1 }] },
  null,
  2,
);

describe("jsonLocations", () => {
  it("finds each value by the API's path format, keys included in the range", () => {
    const ranges = jsonLocations(text);
    const at = (path: string) => {
      const range = ranges.get(path);
      return range ? text.slice(range.start, range.end) : undefined;
    };
    expect(at("steps[0].condition.operator")).toBe('"operator": "equals"');
    expect(at("name")).toBe('"name": "X"');
    expect(at('steps[1]["odd key"]')).toBe('"odd key": 1');
    expect(at("")).toBe(text);
  });

  it("falls back to the nearest existing parent for a missing field", () => {
    const ranges = jsonLocations(text);
    expect(parentPath('steps[1]["odd key"]')).toBe("steps[1]");
    expect(parentPath("steps")).toBe("");
    expect(parentPath("")).toBeUndefined();
    expect(rangeOf(ranges, "steps[0].roleName")).toEqual(ranges.get("steps[0]"));
  });

  it("keeps what it found before a syntax error", () => {
    expect(jsonLocations('{"name": "X", "steps": [').get("name")).toBeDefined();
  });
});

describe("checkDefinition", () => {
  it("reports a JSON syntax error with its offset", () => {
    const check = checkDefinition('{"name": }', undefined);
    expect(check.value).toBeUndefined();
    expect(check.syntaxError?.offset).toBeGreaterThan(0);
  });

  it("names the same fields, with the same messages, as the API", async () => {
    const { trpc } = await newTenant();
    const broken = structuredClone(example2) as Record<string, unknown> & {
      steps: Record<string, unknown>[];
    };
    broken.steps[2] = { ...broken.steps[2], condition: { field: "code", operator: "equals" }, timeout: 5 };
    const local = checkDefinition(JSON.stringify(broken), new Set());
    const server = await errorOf(trpc.orchestrationManagement.create.mutate(broken as never));
    expect(local.errors).toEqual(server.issues);
    expect(local.errors.map((issue) => stepIndexOf(issue.path))).toEqual([2, 2]);
  });

  it("warns about roles that do not exist yet, only once the definition is valid", () => {
    const check = checkDefinition(JSON.stringify(example2), new Set(["Architect"]));
    expect(check.errors).toEqual([]);
    expect(check.warnings.map((w) => w.path)).toEqual(["steps[1].roleName", "steps[2].roleName"]);
  });
});
