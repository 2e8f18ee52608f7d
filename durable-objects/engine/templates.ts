// Template and path syntax shared by validation (save time) and the engine (run time).
// Pure: no storage, no clock, no network, no eval — a hand-written parser over a tiny grammar.
//
//   template := text ( "{{" ws path ws "}}" text )*
//   path     := root ( "." ident | "[" number "]" | "[" quoted "]" )*
//   root     := ident            (in templates: "context" or "output")

export type PathSegment = string | number;

export interface TemplateRef {
  kind: "ref";
  root: string;
  path: PathSegment[];
  source: string;
}
export type TemplatePart = { kind: "text"; text: string } | TemplateRef;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export const TEMPLATE_ROOTS = ["context", "output"] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];
/** Roots bound by an enclosing body: a forEach's `item` and `index`, a loop's `iteration`. */
export const SCOPE_ROOTS = ["item", "index", "iteration"] as const;
export type ScopeRoot = (typeof SCOPE_ROOTS)[number];
const isScopeRoot = (root: string): root is ScopeRoot => (SCOPE_ROOTS as readonly string[]).includes(root);

const IDENT_START = /[A-Za-z_$]/;
const IDENT_CHAR = /[A-Za-z0-9_$]/;

/** Parses a path such as `context.plan.tasks[0]` or `['Step Name'].score` (leading root optional). */
export function parsePath(source: string, allowLeadingBracket = false): ParseResult<PathSegment[]> {
  const segments: PathSegment[] = [];
  let i = 0;
  const fail = (why: string): ParseResult<PathSegment[]> => ({
    ok: false,
    error: `${why} at position ${i + 1} of "${source}"`,
  });
  const readIdent = (): string | undefined => {
    const start = i;
    if (i >= source.length || !IDENT_START.test(source.charAt(i))) return undefined;
    while (i < source.length && IDENT_CHAR.test(source.charAt(i))) i++;
    return source.slice(start, i);
  };

  if (!(allowLeadingBracket && source.startsWith("["))) {
    const root = readIdent();
    if (root === undefined) return fail("expected a name");
    segments.push(root);
  }
  while (i < source.length) {
    const ch = source.charAt(i);
    if (ch === ".") {
      i++;
      const ident = readIdent();
      if (ident === undefined) return fail("expected a name after '.'");
      segments.push(ident);
    } else if (ch === "[") {
      i++;
      const quote = source.charAt(i);
      if (quote === "'" || quote === '"') {
        const end = source.indexOf(quote, i + 1);
        if (end < 0) return fail("unterminated quoted key");
        const key = source.slice(i + 1, end);
        if (key.length === 0) return fail("empty quoted key");
        segments.push(key);
        i = end + 1;
      } else {
        const digits = /^\d+/.exec(source.slice(i));
        if (!digits) return fail("expected a number or a quoted key after '['");
        segments.push(Number(digits[0]));
        i += digits[0].length;
      }
      if (source.charAt(i) !== "]") return fail("expected ']'");
      i++;
    } else {
      // "Sign-off.approved", "Generate Code.length": a name that is not an identifier needs brackets.
      const start = Math.max(source.lastIndexOf(".", i) + 1, source.lastIndexOf("]", i) + 1);
      const name = source.slice(start).split(/[.[]/)[0] ?? "";
      const hint = /^[A-Za-z_$]/.test(name)
        ? `; a name with spaces or punctuation goes in brackets: ['${name}']`
        : "";
      return { ok: false, error: `unexpected '${ch}' at position ${i + 1} of "${source}"${hint}` };
    }
  }
  return { ok: true, value: segments };
}

/** Splits a string into literal text and `{{path}}` references; roots are checked against `roots`. */
export function parseTemplate(
  source: string,
  roots: readonly string[] = TEMPLATE_ROOTS,
): ParseResult<TemplatePart[]> {
  // A run renders the same few templates for every instance (a forEach of 1000 items): parse each once.
  // Results are shared, so callers must not mutate them.
  const key = `${roots.join(",")}\u0000${source}`;
  const cached = parsed.get(key);
  if (cached) return cached;
  if (parsed.size >= PARSED_MAX) parsed.clear();
  const result = parseUncached(source, roots);
  parsed.set(key, result);
  return result;
}

const PARSED_MAX = 5000;
const parsed = new Map<string, ParseResult<TemplatePart[]>>();

function parseUncached(source: string, roots: readonly string[]): ParseResult<TemplatePart[]> {
  const parts: TemplatePart[] = [];
  let cursor = 0;
  while (cursor < source.length) {
    const open = source.indexOf("{{", cursor);
    const textEnd = open < 0 ? source.length : open;
    // A "}}" in literal text is almost always a mistyped opening ("{context.plan}}"), wherever it is.
    const stray = source.indexOf("}}", cursor);
    if (stray >= 0 && stray < textEnd) {
      return { ok: false, error: `"}}" at position ${stray + 1} has no opening "{{"` };
    }
    if (textEnd > cursor) parts.push({ kind: "text", text: source.slice(cursor, textEnd) });
    if (open < 0) break;
    const close = source.indexOf("}}", open + 2);
    if (close < 0) return { ok: false, error: `"{{" at position ${open + 1} is never closed with "}}"` };
    const ref = parseRef(source.slice(open + 2, close).trim(), open, roots);
    if (!ref.ok) return ref;
    parts.push(ref.value);
    cursor = close + 2;
  }
  return { ok: true, value: parts };
}

function parseRef(inner: string, open: number, roots: readonly string[]): ParseResult<TemplateRef> {
  if (inner.length === 0) return { ok: false, error: `empty template "{{}}" at position ${open + 1}` };
  const path = parsePath(inner);
  if (!path.ok) return { ok: false, error: `malformed template {{${inner}}}: ${path.error}` };
  const [root, ...rest] = path.value;
  if (typeof root !== "string" || !roots.includes(root)) {
    // Scope roots are explained where they are out of place (definition-rules.ts), not listed here.
    const allowed = roots
      .filter((r) => !isScopeRoot(r))
      .map((r) => `"${r}"`)
      .join(" or ");
    const hint =
      root === "output" ? "; {{output}} is the step's own result, usable only in outputMapping" : "";
    return { ok: false, error: `template {{${inner}}} must start with ${allowed}${hint}` };
  }
  return { ok: true, value: { kind: "ref", root, path: rest, source: inner } };
}

/** Every string leaf of a JSON value, with its path relative to the value. */
export function* stringLeaves(value: unknown, path: PathSegment[] = []): Generator<[PathSegment[], string]> {
  if (typeof value === "string") {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringLeaves(item, [...path, index]);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) yield* stringLeaves(item, [...path, key]);
  }
}
