// The guard's half that lives in the agent's code: deadline checks injected at transform time into every
// loop condition, every for-of iterable and every function entry, so a runaway script stops itself on
// runtimes that do not enforce CPU limits. Works on sucrase's tokens and scopes of plain JavaScript.
// Also refuses what agent code may not contain (imports, exports, the guard's reserved names).
import { parse } from "sucrase/dist/esm/parser/index.js";
import { ContextualKeyword } from "sucrase/dist/esm/parser/tokenizer/keywords.js";
import { TokenType as tt } from "sucrase/dist/esm/parser/tokenizer/types.js";

/** Names the injected code calls; agent code may not declare or use anything starting with the prefix. */
export const RESERVED_PREFIX = "__troupe";
export const GUARD_NAMES = { tick: "__troupe_tick", iter: "__troupe_iter", asyncIter: "__troupe_aiter" };

/** Text inserted at `at` (an index into the uninstrumented code); `closing` sorts before an opening. */
export interface Insertion {
  at: number;
  text: string;
  closing: boolean;
}

export type Instrumented =
  | { ok: true; code: string; insertions: Insertion[] }
  | { ok: false; message: string; index: number };

interface Token {
  type: number;
  start: number;
  end: number;
  contextualKeyword: number;
}

const OPENERS = new Set<number>([tt.parenL, tt.bracketL, tt.braceL, tt.dollarBraceL]);
const CLOSERS = new Set<number>([tt.parenR, tt.bracketR, tt.braceR]);

/** For each opening bracket, the index of its closing one. */
function matchBrackets(tokens: Token[]): number[] {
  const closer: number[] = [];
  const stack: number[] = [];
  tokens.forEach((token, index) => {
    if (OPENERS.has(token.type)) stack.push(index);
    else if (CLOSERS.has(token.type)) {
      const open = stack.pop();
      if (open !== undefined) closer[open] = index;
    }
  });
  return closer;
}

/** Indexes of the tokens between `from` and `to` (exclusive) that are not nested in brackets. */
function topLevel(tokens: Token[], closer: number[], from: number, to: number): number[] {
  const found: number[] = [];
  for (let i = from; i < to; i++) {
    found.push(i);
    const close = closer[i];
    if (OPENERS.has(tokens[i]?.type ?? -1) && close !== undefined) i = close;
  }
  return found;
}

function refusal(js: string, tokens: Token[]): Instrumented | undefined {
  for (const token of tokens) {
    if (token.type === tt._import)
      return {
        ok: false,
        index: token.start,
        message:
          "import is not available in agent code: create_role, create_orchestration and the other meta functions are globals",
      };
    if (token.type === tt._export)
      return {
        ok: false,
        index: token.start,
        message: "export is not available in agent code; `return` a value to hand it back as the result",
      };
    if (token.type === tt.name && js.startsWith(RESERVED_PREFIX, token.start))
      return {
        ok: false,
        index: token.start,
        message: `names starting with ${RESERVED_PREFIX} are reserved for the sandbox`,
      };
  }
  return undefined;
}

/** Wraps the tokens first..last (inclusive) in `open` ... `close`. */
function wrap(out: Insertion[], tokens: Token[], first: number, last: number, open: string, close: string) {
  const a = tokens[first];
  const b = tokens[last];
  if (!a || !b) return;
  out.push({ at: a.start, text: open, closing: false }, { at: b.end, text: close, closing: true });
}

function guardFunctions(
  parsed: { tokens: Token[]; scopes: ScopeLike[] },
  closer: number[],
  out: Insertion[],
) {
  const { tokens, scopes } = parsed;
  const tick = `${GUARD_NAMES.tick}();`;
  for (const scope of scopes) {
    const first = tokens[scope.startTokenIndex];
    if (!scope.isFunctionScope || !first || scope.endTokenIndex >= tokens.length) continue;
    if (first.type === tt.braceL) {
      out.push({ at: first.end, text: tick, closing: false });
      continue;
    }
    // An arrow function's scope: its parameters, `=>`, then a block (guarded above) or an expression.
    const arrow = topLevel(tokens, closer, scope.startTokenIndex, scope.endTokenIndex).find(
      (i) => tokens[i]?.type === tt.arrow,
    );
    const body = arrow === undefined ? undefined : arrow + 1;
    if (body === undefined || body >= scope.endTokenIndex || tokens[body]?.type === tt.braceL) continue;
    wrap(out, tokens, body, scope.endTokenIndex - 1, `(${GUARD_NAMES.tick}(), `, ")");
  }
}

const DECLARATION = new Set<number>([tt._const, tt._var, tt._let]);

function guardFor(tokens: Token[], closer: number[], index: number, out: Insertion[]) {
  const isAwait = tokens[index + 1]?.contextualKeyword === ContextualKeyword._await;
  const open = isAwait ? index + 2 : index + 1;
  const close = closer[open];
  if (tokens[open]?.type !== tt.parenL || close === undefined) return;
  const inside = topLevel(tokens, closer, open + 1, close);
  const semis = inside.filter((i) => tokens[i]?.type === tt.semi);
  const [s1, s2] = semis;
  if (s1 !== undefined && s2 !== undefined) {
    const semi = tokens[s2];
    if (s2 === s1 + 1 && semi) out.push({ at: semi.start, text: `${GUARD_NAMES.tick}()`, closing: false });
    else wrap(out, tokens, s1 + 1, s2 - 1, `${GUARD_NAMES.tick}() && (`, ")");
    return;
  }
  const of = inside.find(
    (i) =>
      tokens[i]?.type === tt.name &&
      tokens[i]?.contextualKeyword === ContextualKeyword._of &&
      !DECLARATION.has(tokens[i - 1]?.type ?? -1) &&
      i > open + 1,
  );
  if (of === undefined || of + 1 >= close) return; // for-in walks a finite key list: no guard needed
  const iter = isAwait ? GUARD_NAMES.asyncIter : GUARD_NAMES.iter;
  wrap(out, tokens, of + 1, close - 1, `${iter}(`, ")");
}

interface ScopeLike {
  startTokenIndex: number;
  endTokenIndex: number;
  isFunctionScope: boolean;
}

export function applyInsertions(code: string, insertions: Insertion[]): string {
  const sorted = insertions.toSorted((a, b) => a.at - b.at || Number(b.closing) - Number(a.closing));
  let out = "";
  let from = 0;
  for (const insertion of sorted) {
    out += code.slice(from, insertion.at) + insertion.text;
    from = insertion.at;
  }
  return out + code.slice(from);
}

/** Plain JavaScript in, the same code with guard calls out (line breaks untouched, so lines keep numbers). */
export function instrument(js: string): Instrumented {
  const parsed = parse(js, false, false, false) as unknown as { tokens: Token[]; scopes: ScopeLike[] };
  const { tokens } = parsed;
  const refused = refusal(js, tokens);
  if (refused) return refused;
  const closer = matchBrackets(tokens);
  const insertions: Insertion[] = [];
  guardFunctions(parsed, closer, insertions);
  tokens.forEach((token, index) => {
    if (token.type === tt._while) {
      const open = index + 1;
      const close = closer[open];
      if (tokens[open]?.type === tt.parenL && close !== undefined && close > open + 1)
        wrap(insertions, tokens, open + 1, close - 1, `${GUARD_NAMES.tick}() && (`, ")");
    } else if (token.type === tt._for) {
      guardFor(tokens, closer, index, insertions);
    }
  });
  return { ok: true, code: applyInsertions(js, insertions), insertions };
}
