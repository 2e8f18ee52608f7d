// The dashboard's definition editor, minus the browser: where an issue's path sits in the JSON text, and
// that the editor's local check reports exactly what the API answers for the same definition.
import { describe, expect, it } from "vitest";
import { checkDefinition, stepIndexOf } from "../../web/src/lib/definition-check";
import { jsonLocations, parentPath, rangeOf } from "../../web/src/lib/json-locations";
import { TEMPLATES } from "../../web/src/lib/orchestration-templates";
import { errorOf, newTenant } from "../helpers/client";
import { example2, pingPongLoop } from "../helpers/guide";

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
    const broken = structuredClone(example2) as unknown as Record<string, unknown> & {
      steps: Record<string, unknown>[];
    };
    broken.steps[2] = { ...broken.steps[2], condition: { field: "code", operator: "equals" }, timeout: 5 };
    const local = checkDefinition(JSON.stringify(broken), new Set());
    const server = await errorOf(trpc.orchestrationManagement.create.mutate(broken as never));
    expect(local.errors).toEqual(server.issues);
    expect(local.errors.map((issue) => stepIndexOf(issue.path))).toEqual([2, 2]);
  });

  /** The Ping-Pong loop with one thing wrong, as a user might type it. */
  const pingPongWith = (change: (steps: Record<string, unknown>[]) => void) => {
    const definition = structuredClone(pingPongLoop) as unknown as { steps: Record<string, unknown>[] };
    change(definition.steps);
    return definition;
  };
  const loopBody = (steps: Record<string, unknown>[]) =>
    (steps[1] as { steps: Record<string, unknown>[] }).steps;
  const broken = {
    "an unknown kind": pingPongWith((steps) => {
      steps[0] = { ...steps[0], stepType: "repeat" };
    }),
    "a loop without maxIterations": pingPongWith((steps) => {
      delete steps[1]?.maxIterations;
    }),
    "nested names that collide": pingPongWith((steps) => {
      const body = loopBody(steps);
      body[1] = { ...body[1], name: "Creator" };
    }),
    "{{item}} outside a forEach": pingPongWith((steps) => {
      const body = loopBody(steps);
      body[0] = { ...body[0], inputMapping: { draft: "{{item}}" } };
    }),
    "a wrong operator deep in a branch": {
      name: "Deep",
      steps: [
        {
          name: "Route",
          stepType: "branch",
          branches: [
            { when: { field: "input.kind", operator: "is", value: "bug" }, steps: [{ name: "Fix" }] },
          ],
          otherwise: [{ name: "Wait", stepType: "sleep" }],
        },
      ],
    },
  };
  for (const [mistake, definition] of Object.entries(broken)) {
    it(`names the same fields as the API for ${mistake}`, async () => {
      const { trpc } = await newTenant();
      const local = checkDefinition(JSON.stringify(definition), new Set());
      const server = await errorOf(trpc.orchestrationManagement.create.mutate(definition as never));
      expect(local.errors.length).toBeGreaterThan(0);
      expect(local.errors).toEqual(server.issues);
    });
  }

  it("accepts every template the editor offers", () => {
    for (const template of TEMPLATES) {
      const check = checkDefinition(JSON.stringify(template.definition), undefined);
      expect(check.errors, template.id).toEqual([]);
    }
  });

  it("warns about roles that do not exist yet, only once the definition is valid", () => {
    const check = checkDefinition(JSON.stringify(example2), new Set(["Architect"]));
    expect(check.errors).toEqual([]);
    expect(check.warnings.map((w) => w.path)).toEqual(["steps[1].roleName", "steps[2].roleName"]);
  });
});
