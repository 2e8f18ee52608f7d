// Checks the editor's text as the server will: JSON syntax, then the very zod schema the API validates
// with (worker/schemas/orchestration.ts), then the same non-blocking warnings (missing roles, unknown
// context keys). Paths use the API's format, so local and server issues look alike.
import { formatPath } from "../../../worker/schemas/common";
import { definitionWarnings } from "../../../worker/schemas/definition-warnings";
import { orchestrationInputSchema } from "../../../worker/schemas/orchestration";
import type { FieldIssue } from "./errors";
import type { GraphStep } from "./flow-steps";

export interface DefinitionCheck {
  /** The parsed JSON, when it parses (even if the schema rejects it): the graph draws from it. */
  value: unknown;
  syntaxError: { message: string; offset: number } | null;
  errors: FieldIssue[];
  warnings: FieldIssue[];
}

function syntaxErrorOf(text: string, error: Error): { message: string; offset: number } {
  const position = /position (\d+)/.exec(error.message);
  return { message: error.message, offset: position?.[1] ? Number(position[1]) : text.length };
}

export function checkDefinition(text: string, roleNames: ReadonlySet<string> | undefined): DefinitionCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { value: undefined, syntaxError: syntaxErrorOf(text, error as Error), errors: [], warnings: [] };
  }
  const parsed = orchestrationInputSchema.safeParse(value);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      path: formatPath(issue.path as PropertyKey[]),
      message: issue.message,
    }));
    return { value, syntaxError: null, errors, warnings: [] };
  }
  const warnings = roleNames ? definitionWarnings(parsed.data, roleNames) : [];
  return { value, syntaxError: null, errors: [], warnings };
}

/** "steps[2].condition" → 2 (the top-level step); anything outside a step → undefined. */
export function stepIndexOf(path: string): number | undefined {
  const match = /^steps\[(\d+)\]/.exec(path);
  return match?.[1] ? Number(match[1]) : undefined;
}

const BODY_STEP = /^\.steps\[(\d+)\]/;
const ARM_STEP = /^\.branches\[(\d+)\]\.steps\[(\d+)\]/;
const OTHERWISE_STEP = /^\.otherwise\[(\d+)\]/;

/**
 * The innermost step an issue's path is about, as a step key: "steps[1].steps[0].roleName" → "1.*.0",
 * "steps[1].branches[2].steps[0]" → "1.2.0", `otherwise` → the arm after the last branch.
 */
export function stepKeyOf(path: string, steps: readonly GraphStep[]): string | undefined {
  const top = /^steps\[(\d+)\]/.exec(path);
  if (!top?.[1]) return undefined;
  let key = top[1];
  let step = steps[Number(top[1])];
  let rest = path.slice(top[0].length);
  for (;;) {
    const body = BODY_STEP.exec(rest);
    const arm = ARM_STEP.exec(rest);
    const otherwise = OTHERWISE_STEP.exec(rest);
    const armCount = step?.arms?.length ?? 0;
    const hasOtherwise = step?.arms?.at(-1)?.when === null;
    const next = body
      ? { slot: "*", index: Number(body[1]), step: step?.steps?.[Number(body[1])], length: body[0].length }
      : arm
        ? {
            slot: arm[1],
            index: Number(arm[2]),
            step: step?.arms?.[Number(arm[1])]?.steps[Number(arm[2])],
            length: arm[0].length,
          }
        : otherwise && hasOtherwise
          ? {
              slot: String(armCount - 1),
              index: Number(otherwise[1]),
              step: step?.arms?.at(-1)?.steps[Number(otherwise[1])],
              length: otherwise[0].length,
            }
          : undefined;
    if (!next?.step) return key;
    key = `${key}.${next.slot}.${next.index}`;
    step = next.step;
    rest = rest.slice(next.length);
  }
}
