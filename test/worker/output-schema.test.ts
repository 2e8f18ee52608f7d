// A step's outputSchema: what counts as a JSON Schema (checkJsonSchema, run here in workerd as in
// production), how a reply is checked against it (validateOutput), and how a definition holding a bad
// one is refused through the API: BAD_REQUEST at the field's full path, with the reason, nothing written.
import { describe, expect, it } from "vitest";
import { checkJsonSchema, validateOutput } from "../../worker/models/output-schema";
import { errorOf, newTenant } from "../helpers/client";
import { snapshotOf } from "../helpers/fixtures";

const NOT_A_SCHEMA = 'must be a JSON Schema object such as { "type": "object", "properties": { ... } }';
const TYPES = "must be one of array, boolean, integer, null, number, object, string, or an array of them";

const review = {
  type: "object",
  properties: {
    score: { type: "number", minimum: 0, maximum: 10 },
    tags: { type: "array", items: { type: "string" } },
    verdict: { enum: ["ship", "revise"] },
    note: { $ref: "#/$defs/note" },
  },
  required: ["score"],
  additionalProperties: false,
  $defs: { note: { type: "string", maxLength: 20 } },
};

describe("checkJsonSchema", () => {
  it.each([
    ["an empty schema (anything goes)", {}],
    ["an object schema with local $refs", review],
    [
      "a schema naming its dialect",
      { $schema: "https://json-schema.org/draft/2020-12/schema", type: "string" },
    ],
    ["prefixItems, const and a pattern", { prefixItems: [{ const: 1 }], items: { pattern: "^[a-z]+$" } }],
  ])("accepts %s", (_what, schema) => {
    expect(checkJsonSchema(schema)).toEqual({ ok: true });
  });

  it.each([
    ["a number", 5, [], NOT_A_SCHEMA],
    ["an array", [], [], NOT_A_SCHEMA],
    ["null", null, [], NOT_A_SCHEMA],
    ["the boolean schema true", true, [], NOT_A_SCHEMA],
    ["an unknown type", { type: "banana" }, ["type"], TYPES],
    ["an unknown type in a list", { type: ["string", "banana"] }, ["type"], TYPES],
    ["properties that are not an object", { properties: 5 }, ["properties"], "must be object (it is number)"],
    [
      "a negative minLength deep inside",
      { properties: { name: { type: "string", minLength: -1 } } },
      ["properties", "name", "minLength"],
      "-1 is less than 0",
    ],
    ["a $defs entry with a bad type", { $defs: { a: { type: 3 } } }, ["$defs", "a", "type"], TYPES],
    ["required as a string", { required: "name" }, ["required"], "must be array (it is string)"],
    ["repeated required names", { required: ["a", "a"] }, ["required"], "duplicate items at indexes 0 and 1"],
    ["an empty anyOf", { anyOf: [] }, ["anyOf"], "has too few items (0 < 1)"],
    ["draft-07 tuple items", { items: [{}] }, ["items"], "must be object or boolean (it is array)"],
    [
      "a pattern that is not a regular expression",
      { pattern: "(" },
      ["pattern"],
      "is not a valid regular expression",
    ],
    [
      "a $ref to nowhere",
      { $ref: "#/$defs/missing" },
      ["$ref"],
      '"#/$defs/missing" does not point inside this schema; use a local reference such as "#/$defs/item"',
    ],
    [
      "a remote $ref",
      { properties: { a: { $ref: "https://example.com/a.json" } } },
      ["properties", "a", "$ref"],
      '"https://example.com/a.json" does not point inside this schema; use a local reference such as "#/$defs/item"',
    ],
    [
      "a $dynamicRef",
      { $dynamicRef: "#meta" },
      [],
      "$dynamicRef and $dynamicAnchor are not supported; use $ref",
    ],
  ])("rejects %s, saying where and why", (_what, schema, path, message) => {
    const check = checkJsonSchema(schema);
    expect(check).toMatchObject({ ok: false, problems: [{ path, message }] });
    if (!check.ok)
      expect(check.message).toBe(
        `${path.length > 0 ? path.join(".") : NOT_A_SCHEMA === message ? "" : "the schema"}${path.length > 0 || NOT_A_SCHEMA !== message ? ": " : ""}${message}`,
      );
  });

  it("does not change the schema it checks", () => {
    const schema = structuredClone(review);
    checkJsonSchema(schema);
    expect(schema).toEqual(review);
    expect(Object.getOwnPropertyNames(schema.properties.note)).toEqual(["$ref"]);
  });
});

describe("validateOutput", () => {
  it("accepts a matching reply and returns it parsed", () => {
    const text = '{"score": 7.5, "tags": ["clear"], "verdict": "ship", "note": "fine"}';
    expect(validateOutput(review, text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it("lists each mismatch at its place in the reply, in words", () => {
    const text =
      '{"score": 11, "tags": ["ok", 2], "verdict": "maybe", "note": "far too long for the limit", "extra": 1}';
    expect(validateOutput(review, text)).toEqual({
      ok: false,
      errors: [
        "score: 11 is greater than 10",
        "tags[1]: must be string (it is number)",
        'verdict: must be one of ["ship","revise"]',
        "note: is too long (26 > 20)",
        'the reply: has the property "extra", which the schema does not allow',
      ],
    });
  });

  it("names a missing required property and a reply of the wrong shape", () => {
    expect(validateOutput(review, "{}")).toEqual({
      ok: false,
      errors: ['the reply: is missing the required property "score"'],
    });
    expect(validateOutput(review, "[1]")).toEqual({
      ok: false,
      errors: ["the reply: must be object (it is array)"],
    });
  });

  it("reports the alternatives of a failed anyOf together", () => {
    const schema = { anyOf: [{ type: "string" }, { type: "integer" }] };
    expect(validateOutput(schema, "1.5")).toEqual({
      ok: false,
      errors: [
        "the reply: matches none of the allowed forms: must be string (it is number); or must be integer (it is number)",
      ],
    });
  });

  it("refuses a reply that is not JSON, quoting the parser", () => {
    const result = validateOutput(review, "Sure! Here is the JSON: {");
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.errors[0]).toMatch(/^the reply is not JSON: /);
  });

  it("answers a schema it cannot evaluate with an error instead of throwing", () => {
    expect(validateOutput({ $ref: "#/nowhere" }, "1")).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^the outputSchema cannot be evaluated: Unresolved \$ref/)],
    });
  });
});

describe("outputSchema on agent steps, through the API", () => {
  const agent = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    roleName: "Coder",
    ...extra,
  });

  async function refused(steps: unknown[]) {
    const tenant = await newTenant("schema");
    const before = await snapshotOf(tenant);
    const error = await errorOf(
      tenant.trpc.orchestrationManagement.create.mutate({ name: "Bad", steps } as never),
    );
    expect(await snapshotOf(tenant)).toEqual(before);
    expect(error).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    return error;
  }

  it("saves a step with a valid outputSchema and gives it back unchanged", async () => {
    const { trpc } = await newTenant("schema");
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Reviewed",
      steps: [agent("Review", { outputSchema: review })],
    });
    const saved = await trpc.orchestrationManagement.get.query({ nameOrId: created.id });
    expect(saved.steps[0]).toMatchObject({ name: "Review", outputSchema: review });
  });

  it.each([
    [[agent("Review", { outputSchema: { type: "banana" } })], "steps[0].outputSchema.type", TYPES],
    [[agent("A"), agent("B", { outputSchema: 5 })], "steps[1].outputSchema", NOT_A_SCHEMA],
    [
      [agent("A"), agent("B"), agent("C", { outputSchema: { properties: 5 } })],
      "steps[2].outputSchema.properties",
      "must be object (it is number)",
    ],
    [
      [
        {
          name: "Each",
          stepType: "forEach",
          items: [1, 2],
          steps: [agent("Do", { outputSchema: { $ref: "#/x" } })],
        },
      ],
      "steps[0].steps[0].outputSchema.$ref",
      '"#/x" does not point inside this schema; use a local reference such as "#/$defs/item"',
    ],
    [
      [agent("Text", { outputFormat: "text", outputSchema: { type: "string" } })],
      "steps[0].outputFormat",
      'cannot be "text" with an outputSchema (the reply must be JSON): set "json" or leave it out',
    ],
  ])("refuses %j with BAD_REQUEST at `%s`", async (steps, path, message) => {
    const error = await refused(steps);
    expect(error.issues).toEqual([{ path, message }]);
  });

  it("refuses outputSchema on a step kind that has no model reply", async () => {
    const error = await refused([{ name: "Wait", stepType: "sleep", duration: 1000, outputSchema: {} }]);
    expect(error.issues[0]?.path).toBe("steps[0].outputSchema");
    expect(error.issues[0]?.message).toMatch(/^"outputSchema" belongs to agent steps, not to a sleep step/);
  });

  it("publishes outputSchema in the definition's JSON Schema", async () => {
    const { workerFetch } = await import("../helpers/client");
    const schema = (await (await workerFetch("http://localhost/schema/orchestration.json")).json()) as object;
    expect(JSON.stringify(schema)).toContain('"outputSchema"');
  });
});
