// Checks the editor's text as the server will: JSON syntax, then the very zod schema the API validates
// with (worker/schemas/orchestration.ts), then the same non-blocking warnings (missing roles, unknown
// context keys). Paths use the API's format, so local and server issues look alike.
import { formatPath } from "../../../worker/schemas/common";
import { definitionWarnings } from "../../../worker/schemas/definition-warnings";
import { orchestrationInputSchema } from "../../../worker/schemas/orchestration";
import type { FieldIssue } from "./errors";

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

/** "steps[2].condition" → 2; anything outside a step → undefined. */
export function stepIndexOf(path: string): number | undefined {
  const match = /^steps\[(\d+)\]/.exec(path);
  return match?.[1] ? Number(match[1]) : undefined;
}
