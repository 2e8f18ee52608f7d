// Server errors in words a person understands: the tRPC code becomes a sentence about what to do, the
// message (which names the field) is kept, and `data.issues` is exposed so forms can mark each field.
import { TRPCClientError } from "@trpc/client";

export interface FieldIssue {
  path: string;
  message: string;
}

export interface Problem {
  title: string;
  detail: string;
  issues: FieldIssue[];
}

interface ErrorData {
  code?: string;
  issues?: FieldIssue[];
}

export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  return (error.data as ErrorData | undefined)?.code;
}

const TITLES: Record<string, string> = {
  BAD_REQUEST: "Please check what you entered",
  UNAUTHORIZED: "You are not signed in",
  FORBIDDEN: "You are not allowed to do that",
  NOT_FOUND: "Not found",
  CONFLICT: "That clashes with something that already exists",
  PRECONDITION_FAILED: "Not ready yet",
  TOO_MANY_REQUESTS: "Too many attempts",
  PAYLOAD_TOO_LARGE: "That is too large",
  INTERNAL_SERVER_ERROR: "Something went wrong on the server",
};

export function describeError(error: unknown): Problem {
  if (error instanceof TRPCClientError) {
    const data = error.data as ErrorData | undefined;
    const code = data?.code;
    if (code === undefined) {
      return {
        title: "Cannot reach Troupe",
        detail:
          "The server did not answer. Check your connection (or that `npm start` is running) and try again.",
        issues: [],
      };
    }
    return { title: TITLES[code] ?? "The request failed", detail: error.message, issues: data?.issues ?? [] };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { title: "Something went wrong", detail: message, issues: [] };
}

/** Issues for one form field (exact path, or anything below it). */
export function issuesAt(issues: readonly FieldIssue[], path: string): string[] {
  return issues
    .filter(
      (issue) =>
        issue.path === path || issue.path.startsWith(`${path}.`) || issue.path.startsWith(`${path}[`),
    )
    .map((issue) =>
      issue.path === path ? issue.message : `${issue.path.slice(path.length + 1)}: ${issue.message}`,
    );
}
