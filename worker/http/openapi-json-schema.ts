// zod schemas as JSON Schema for the OpenAPI document: the same z.toJSONSchema export /schema/*.json uses,
// with each schema's `$defs` moved into `components.schemas` so every `$ref` resolves inside one document.
// Pure: no routes, no I/O.
import { type ZodType, z } from "zod";

export type JsonSchema = { [key: string]: unknown };

const DEFS_PREFIX = "#/$defs/";
const COMPONENTS_PREFIX = "#/components/schemas/";

/** `#/$defs/X` → `#/components/schemas/<renamed X>`, everywhere in a schema tree. */
function rewriteRefs(node: unknown, rename: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, rename));
  if (node === null || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string" && value.startsWith(DEFS_PREFIX)) {
      const name = value.slice(DEFS_PREFIX.length);
      out[key] = `${COMPONENTS_PREFIX}${rename.get(name) ?? name}`;
    } else {
      out[key] = rewriteRefs(value, rename);
    }
  }
  return out;
}

/** The component name of z.json(), which zod emits as an unnamed recursive definition. */
const ANY_JSON = "AnyJson";
const JSON_TYPES = ["string", "number", "boolean", "null", "array", "object"];

function isAnyJson(definition: JsonSchema): boolean {
  const types = new Set((definition.anyOf as JsonSchema[] | undefined)?.map((option) => option.type));
  return JSON_TYPES.every((type) => types.has(type));
}

/** A definition's JSON with its references to itself made anonymous, when it refers to nothing else. */
function selfContainedShape(name: string, json: string): string | undefined {
  const shape = json.replaceAll(`"${DEFS_PREFIX}${name}"`, '"#self"');
  return shape.includes(DEFS_PREFIX) ? undefined : shape;
}

/**
 * Collects the shared schemas of a document. zod names a definition after the `id` a schema was
 * registered with (Step, Condition, ...) or `__schemaN` when it is merely reused; the first kind is shared
 * between operations when it is the same JSON, the second gets `owner` as prefix unless an earlier schema
 * made the same self-contained one (z.json()).
 */
export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};
  /** The generated JSON (before refs were rewritten) under each component name, to tell equal from clashing. */
  private readonly generated = new Map<string, string>();

  /** Local definitions that refer to nothing but themselves (z.json()), by their shape: one component each. */
  private readonly selfContained = new Map<string, string>();

  /** The JSON Schema of what a client sends (`io: "input"`) or receives (`io: "output"`). */
  add(schema: ZodType, owner: string, io: "input" | "output"): JsonSchema {
    const {
      $schema: _dialect,
      $defs,
      ...root
    } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as {
      $schema?: string;
      $defs?: Record<string, JsonSchema>;
    } & JsonSchema;
    const definitions = Object.entries($defs ?? {});
    const rename = new Map<string, string>();
    for (const [name, definition] of definitions) {
      const json = JSON.stringify(definition);
      if (name.startsWith("__schema")) {
        const shape = selfContainedShape(name, json);
        const named = shape && isAnyJson(definition) && !this.generated.has(ANY_JSON);
        const fresh = named ? ANY_JSON : `${owner}.${name}`;
        rename.set(name, (shape && this.selfContained.get(shape)) ?? fresh);
        continue;
      }
      const taken = this.generated.get(name);
      rename.set(name, taken === undefined || taken === json ? name : `${owner}.${name}`);
    }
    for (const [name, definition] of definitions) {
      const target = rename.get(name) ?? name;
      if (this.generated.has(target)) continue;
      const json = JSON.stringify(definition);
      this.generated.set(target, json);
      const shape = name.startsWith("__schema") ? selfContainedShape(name, json) : undefined;
      if (shape) this.selfContained.set(shape, target);
      this.schemas[target] = rewriteRefs(definition, rename) as JsonSchema;
    }
    return rewriteRefs(root, rename) as JsonSchema;
  }
}

/** Whether a procedure may be called without input (tRPC then passes `undefined` to its parser). */
export function acceptsNoInput(schema: ZodType): boolean {
  return schema.safeParse(undefined).success;
}
