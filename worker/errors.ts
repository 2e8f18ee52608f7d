// Domain errors as typed values, thrown by the data layer and mapped to tRPC codes in one place
// (worker/trpc/init.ts). They carry the field paths so every client sees which input was wrong and why.
import type { FieldIssue } from "./schemas/common";
import { describeIssues } from "./schemas/common";

export type ErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "TOO_MANY_REQUESTS";

export class TroupeError extends Error {
  override name = "TroupeError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export function invalid(issues: FieldIssue[]): TroupeError {
  return new TroupeError("BAD_REQUEST", describeIssues(issues), issues);
}

export function notFound(what: string, idOrName: string): TroupeError {
  return new TroupeError("NOT_FOUND", `${what} "${idOrName}" was not found`);
}

export function conflict(path: string, message: string): TroupeError {
  return new TroupeError("CONFLICT", `${path}: ${message}`, [{ path, message }]);
}

/**
 * D1 reports constraint violations as text, sometimes wrapped by drizzle; look through the causes.
 * Returns the violated columns ("orchestrations.tenant_id, orchestrations.name") or undefined.
 */
export function uniqueViolation(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const match = /UNIQUE constraint failed: ([\w., ]+)/.exec(current.message);
    if (match) return match[1];
  }
  return undefined;
}
