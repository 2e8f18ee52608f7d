// The engine folder's boundary as a check over source text: imports stay inside durable-objects/engine/,
// and nothing reads a clock or a random source. Comments, strings and regular expressions are blanked
// first (offsets kept), so a header that says "no Date.now" is not a violation but a call in a template
// literal's ${...} is. A small lexer, not a parser: enough for code written to the style guide.

export interface Violation {
  file: string;
  line: number;
  what: string;
}

/** Imports may name only a sibling module: "./decide" or "./decide.ts". */
const LOCAL_MODULE = /^\.\/[A-Za-z0-9_-]+(\.ts)?$/;
/** ...or one of these packages: pure computation, no clock, randomness or I/O (re2js: `matches`, linear time). */
const PURE_PACKAGES = new Set(["re2js"]);

/** What the engine may not call: time and randomness come in as arguments, I/O belongs to the shell. */
const FORBIDDEN: [RegExp, string][] = [
  [/\bDate\s*\.\s*now\b/g, "Date.now"],
  [/\bnew\s+Date\s*(?:\(\s*\)|(?!\s*\())/g, "new Date() without a time"],
  [/(?<!\bnew\s+)(?<![\w.$])Date\s*\(/g, "Date() without new (the current time as text)"],
  [/\bperformance\s*\.\s*now\b/g, "performance.now"],
  [/\bMath\s*\.\s*random\b/g, "Math.random"],
  [/\bcrypto\s*\./g, "crypto"],
  [/(?<![\w.$])fetch\s*\(/g, "fetch"],
  [/\b(?:setTimeout|setInterval)\b/g, "a timer"],
  [/\brequire\s*\(/g, "require"],
  [/\bimport\s*\(/g, "a dynamic import"],
];

const KEYWORDS_BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "yield",
  "await",
]);

/**
 * Two copies of `source` with the same offsets: `code` without comments, `bare` without comments nor
 * the contents of strings, template literal text and regular expressions.
 */
export function mask(source: string): { code: string; bare: string } {
  const code: string[] = [];
  const bare: string[] = [];
  const put = (ch: string, inCode: boolean, inBare: boolean) => {
    const blank = ch === "\n" ? "\n" : " ";
    code.push(inCode ? ch : blank);
    bare.push(inBare ? ch : blank);
  };
  let mode: "code" | "template" = "code";
  const templateDepths: number[] = [];
  let depth = 0;
  let word = "";
  let lastToken = "";
  for (let i = 0; i < source.length; ) {
    const ch = source.charAt(i);
    const next = source.charAt(i + 1);
    if (mode === "template") {
      if (ch === "\\") {
        put(ch, true, false);
        put(next, true, false);
        i += 2;
      } else if (ch === "`") {
        put(ch, true, true);
        mode = "code";
        lastToken = "`";
        i += 1;
      } else if (ch === "$" && next === "{") {
        put(ch, true, true);
        put(next, true, true);
        templateDepths.push(depth);
        mode = "code";
        lastToken = "{";
        i += 2;
      } else {
        put(ch, true, false);
        i += 1;
      }
      continue;
    }
    if (/[\w$]/.test(ch)) {
      word += ch;
      put(ch, true, true);
      i += 1;
      continue;
    }
    if (word) lastToken = word;
    word = "";
    if (ch === "/" && next === "/") {
      for (; i < source.length && source.charAt(i) !== "\n"; i++) put(source.charAt(i), false, false);
    } else if (ch === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      for (; i < stop; i++) put(source.charAt(i), false, false);
    } else if (ch === '"' || ch === "'") {
      i = skipQuoted(source, i, put);
      lastToken = ch;
    } else if (ch === "`") {
      put(ch, true, true);
      mode = "template";
      i += 1;
    } else if (ch === "/" && regexMayStart(lastToken)) {
      i = skipRegex(source, i, put);
      lastToken = "/";
    } else {
      if (ch === "{") depth += 1;
      if (ch === "}" && templateDepths.at(-1) === depth) {
        templateDepths.pop();
        put(ch, true, true);
        mode = "template";
        i += 1;
        continue;
      }
      if (ch === "}") depth -= 1;
      put(ch, true, true);
      if (!/\s/.test(ch)) lastToken = ch;
      i += 1;
    }
  }
  return { code: code.join(""), bare: bare.join("") };
}

type Put = (ch: string, inCode: boolean, inBare: boolean) => void;

function skipQuoted(source: string, start: number, put: Put): number {
  const quote = source.charAt(start);
  put(quote, true, true);
  let i = start + 1;
  while (i < source.length && source.charAt(i) !== quote && source.charAt(i) !== "\n") {
    if (source.charAt(i) === "\\") put(source.charAt(i++), true, false);
    if (i < source.length) put(source.charAt(i++), true, false);
  }
  if (i < source.length) put(source.charAt(i++), true, true);
  return i;
}

function skipRegex(source: string, start: number, put: Put): number {
  put("/", true, true);
  let i = start + 1;
  let inClass = false;
  for (; i < source.length && source.charAt(i) !== "\n"; i++) {
    const ch = source.charAt(i);
    if (ch === "\\") {
      put(ch, true, false);
      i += 1;
      put(source.charAt(i), true, false);
      continue;
    }
    if (ch === "/" && !inClass) break;
    if (ch === "[") inClass = true;
    if (ch === "]") inClass = false;
    put(ch, true, false);
  }
  if (i < source.length) put(source.charAt(i++), true, true);
  return i;
}

/** After these a "/" opens a regular expression; after a value (a name, a number, ")" or "]") it divides. */
function regexMayStart(lastToken: string): boolean {
  if (lastToken === "") return true;
  if (/^[\w$]+$/.test(lastToken)) return KEYWORDS_BEFORE_REGEX.has(lastToken);
  return !/^[)\]}`'"/]$/.test(lastToken);
}

const lineAt = (text: string, index: number) => text.slice(0, index).split("\n").length;

/** Every way `source` (the file `file` of the engine folder) leaves the engine's boundary. */
export function engineViolations(file: string, source: string): Violation[] {
  const { code, bare } = mask(source);
  const violations: Violation[] = [];
  // A module specifier is a string: find the keyword in real code, read the specifier from `code`.
  for (const match of code.matchAll(/\b(?:from|import)\s*(["'])([^"'\n]*)\1/g)) {
    if (
      bare.charAt(match.index) === " " ||
      LOCAL_MODULE.test(match[2] ?? "") ||
      PURE_PACKAGES.has(match[2] ?? "")
    )
      continue;
    violations.push({ file, line: lineAt(code, match.index), what: `imports "${match[2]}"` });
  }
  for (const [pattern, what] of FORBIDDEN) {
    for (const match of bare.matchAll(pattern))
      violations.push({ file, line: lineAt(bare, match.index), what });
  }
  return violations.sort((a, b) => a.line - b.line);
}
