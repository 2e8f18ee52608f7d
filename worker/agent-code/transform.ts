// Agent code in, a module the sandbox can load out: TypeScript stripped by sucrase, the guard inserted,
// the whole wrapped in a function so top-level `await` and `return` work and the meta functions are in
// scope. Syntax errors come back with the agent's own line and column; nothing here runs the code.
import { transform } from "sucrase";
import { GUARD_NAMES, instrument } from "./instrument";
import { META_FUNCTION_NAMES } from "./meta-names";
import { type Position, positionMap } from "./positions";

export interface AgentCodeError {
  name: string;
  message: string;
  line: number | null;
  column: number | null;
  /** For errors of meta functions: the API's error code (BAD_REQUEST, FORBIDDEN, NOT_FOUND, ...). */
  code?: string;
}

export type Compiled =
  | { ok: true; module: string; position: (at: Position) => Position }
  | { ok: false; error: AgentCodeError };

/** Everything before the agent's code sits on line 1, so the agent's line numbers are the module's. */
const MODULE_PREFIX =
  `export default function (__troupe) { const { tick: ${GUARD_NAMES.tick}, iter: ${GUARD_NAMES.iter}, ` +
  `aiter: ${GUARD_NAMES.asyncIter}, console, system, ${META_FUNCTION_NAMES.join(", ")} } = __troupe; ` +
  "return async function () {";
const MODULE_SUFFIX = "\n}; }\n";

function lineAndColumn(text: string, index: number): Position {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  return { line, column: index - before.lastIndexOf("\n") };
}

function syntaxError(error: unknown): AgentCodeError {
  const raw = error instanceof Error ? error.message : String(error);
  const loc = (error as { loc?: { line?: number; column?: number } } | undefined)?.loc;
  const message = raw.replace(/^Error transforming [^:]*: /, "").replace(/ \(\d+:\d+\)$/, "");
  return { name: "SyntaxError", message, line: loc?.line ?? null, column: loc?.column ?? null };
}

export function compileAgentCode(source: string): Compiled {
  let js: string;
  let mappings: string;
  try {
    const out = transform(source, {
      transforms: ["typescript"],
      disableESTransforms: true,
      filePath: "agent.ts",
      sourceMapOptions: { compiledFilename: "agent.js" },
    });
    js = out.code;
    mappings = out.sourceMap?.mappings ?? "";
  } catch (error) {
    return { ok: false, error: syntaxError(error) };
  }
  let guarded: ReturnType<typeof instrument>;
  try {
    guarded = instrument(js);
  } catch (error) {
    return { ok: false, error: syntaxError(error) };
  }
  if (!guarded.ok) {
    const toSource = positionMap({ js, mappings, insertions: [], prefixLength: 0 });
    const at = toSource(lineAndColumn(js, guarded.index));
    return { ok: false, error: { name: "SyntaxError", message: guarded.message, ...at } };
  }
  return {
    ok: true,
    module: MODULE_PREFIX + guarded.code + MODULE_SUFFIX,
    position: positionMap({
      js,
      mappings,
      insertions: guarded.insertions,
      prefixLength: MODULE_PREFIX.length,
    }),
  };
}
