// Reads /openapi.json for the API reference page: operations grouped by tag, an input schema as rows of
// fields (type, required, description), a placeholder input and a curl line. Pure: no React, no fetch.

export interface JsonSchema {
  type?: string | string[];
  $ref?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

interface Operation {
  operationId: string;
  tags?: string[];
  description?: string;
  "x-troupe-access"?: string;
  "x-trpc-type"?: "query" | "mutation" | "subscription";
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    content?: Record<string, { schema: JsonSchema }>;
  }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
}

export interface OpenApiDocument {
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface ApiOperation {
  id: string;
  method: string;
  path: string;
  kind: string;
  access: string;
  description: string;
  input: JsonSchema | undefined;
  inputRequired: boolean;
}

/** Every operation, grouped by its first tag, in the document's tag order. */
export function operationsByTag(document: OpenApiDocument): { tag: string; operations: ApiOperation[] }[] {
  const groups = new Map<string, ApiOperation[]>((document.tags ?? []).map((tag) => [tag.name, []]));
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const query = operation.parameters?.find((parameter) => parameter.name === "input");
      const body = operation.requestBody;
      const tag = operation.tags?.[0] ?? "other";
      const list = groups.get(tag) ?? [];
      list.push({
        id: operation.operationId,
        method: method.toUpperCase(),
        path,
        kind: operation["x-trpc-type"] ?? "http",
        access: operation["x-troupe-access"] ?? "public",
        description: operation.description ?? "",
        input: body?.content["application/json"]?.schema ?? query?.content?.["application/json"]?.schema,
        inputRequired: body?.required ?? query?.required ?? false,
      });
      groups.set(tag, list);
    }
  }
  return [...groups]
    .filter(([, operations]) => operations.length > 0)
    .map(([tag, operations]) => ({ tag, operations }));
}

/** "Scope: run", "Session only", ... in words for a badge. */
export function accessLabel(access: string): string {
  if (access === "public") return "No sign-in";
  if (access === "session") return "Signed-in session only";
  if (access === "any") return "Any API key";
  return `Scope: ${access}`;
}

const refName = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1);

/** The schema a `$ref` points at (following a chain of them), with the referring schema's own keywords. */
export function resolve(document: OpenApiDocument, schema: JsonSchema, hops = 0): JsonSchema {
  if (!schema.$ref || hops > 5) return schema;
  const { $ref, ...own } = schema;
  return resolve(document, { ...document.components?.schemas?.[refName($ref)], ...own }, hops + 1);
}

const JSON_TYPES = ["string", "number", "boolean", "null", "array", "object"];

/** zod's z.json(): a union of every JSON type. */
function isAnyJson(document: OpenApiDocument, schema: JsonSchema): boolean {
  const types = new Set((resolve(document, schema).anyOf ?? []).map((option) => option.type));
  return JSON_TYPES.every((type) => types.has(type));
}

/** A short type: "string", "integer", "array of Step", "one of: a | b", "any JSON". */
export function typeLabel(document: OpenApiDocument, schema: JsonSchema): string {
  if (schema.$ref) return isAnyJson(document, schema) ? "any JSON" : refName(schema.$ref);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return `one of: ${schema.enum.map((value) => JSON.stringify(value)).join(" | ")}`;
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    const labels = options.filter((option) => option.type !== "null").map((o) => typeLabel(document, o));
    return [...new Set(labels)].join(" or ");
  }
  if (schema.type === "array") return `array of ${schema.items ? typeLabel(document, schema.items) : "any"}`;
  if (Array.isArray(schema.type)) return schema.type.join(" or ");
  return schema.type ?? "any JSON";
}

/** Limits in words: "1–64 characters", "at least 1", "at most 20 items". */
function limitsOf(schema: JsonSchema): string {
  const range = (low: number | undefined, high: number | undefined, unit: string) => {
    const big = (n: number) => n >= Number.MAX_SAFE_INTEGER;
    const max = high === undefined || big(high) ? undefined : high;
    const n = (value: number) => value.toLocaleString("en");
    if (low && max !== undefined) return `${n(low)}–${n(max)}${unit}`;
    if (low) return `at least ${n(low)}${unit}`;
    return max !== undefined ? `at most ${n(max)}${unit}` : "";
  };
  const parts = [
    range(schema.minLength, schema.maxLength, " characters"),
    range(schema.minItems, schema.maxItems, " items"),
    range(schema.minimum, schema.maximum, ""),
    schema.exclusiveMinimum !== undefined ? `more than ${schema.exclusiveMinimum}` : "",
  ].filter(Boolean);
  const text = parts.join(", ");
  return text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}.` : "";
}

export interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

/** The fields of an object input, nested objects flattened to `budget.maxTokens` (two levels). */
export function fieldRows(document: OpenApiDocument, input: JsonSchema, prefix = "", depth = 0): FieldRow[] {
  const schema = resolve(document, input);
  const object = schema.properties ? schema : (schema.anyOf ?? []).find((option) => option.properties);
  if (!object?.properties) return [];
  const rows: FieldRow[] = [];
  for (const [name, raw] of Object.entries(object.properties)) {
    const field = resolve(document, raw);
    const notes = [
      field.description,
      limitsOf(field),
      field.default !== undefined ? `Default ${JSON.stringify(field.default)}.` : "",
    ];
    rows.push({
      name: `${prefix}${name}`,
      type: typeLabel(document, raw),
      required: object.required?.includes(name) ?? false,
      description: notes.filter(Boolean).join(" "),
    });
    if (field.properties && depth < 1)
      rows.push(...fieldRows(document, field, `${prefix}${name}.`, depth + 1));
  }
  return rows;
}

/** A placeholder input holding the required fields only. */
export function exampleOf(document: OpenApiDocument, input: JsonSchema, depth = 0, name = ""): unknown {
  const schema = resolve(document, input);
  if (depth > 3) return {};
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    const first = options.find((option) => option.type !== "null");
    return first ? exampleOf(document, first, depth + 1, name) : null;
  }
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case "string":
      return name ? `<${name}>` : "…";
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object": {
      const example: Record<string, unknown> = {};
      for (const field of schema.required ?? [])
        example[field] = exampleOf(document, schema.properties?.[field] ?? {}, depth + 1, field);
      return example;
    }
    default:
      return {};
  }
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** A curl line that makes the call as the document describes it, with the caller's own key. */
export function curlOf(document: OpenApiDocument, operation: ApiOperation, origin: string): string {
  const url = `${origin}${operation.path}`;
  const auth =
    operation.access === "public"
      ? []
      : operation.access === "session"
        ? ['-b "troupe_session=$TROUPE_SESSION"']
        : ['-H "Authorization: Bearer $TROUPE_API_KEY"'];
  const input = operation.input ? JSON.stringify(exampleOf(document, operation.input)) : undefined;
  if (operation.method === "POST") {
    const body = input ? ["-H 'content-type: application/json'", `-d ${shellQuote(input)}`] : [];
    return ["curl -s -X POST", shellQuote(url), ...auth, ...body].join(" \\\n  ");
  }
  const stream = operation.kind === "subscription" ? "curl -sN" : "curl -s";
  const query = input ? ["-G", `--data-urlencode ${shellQuote(`input=${input}`)}`] : [];
  return [stream, shellQuote(url), ...auth, ...query].join(" \\\n  ");
}
