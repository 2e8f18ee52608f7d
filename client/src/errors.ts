// API errors as a caller reads them: the tRPC code, the message, and which fields were wrong and why
// (the server's `data.issues`). A network failure is an error of its own kind, not an API answer.
import { TRPCClientError } from "@trpc/client";

export interface FieldIssue {
  path: string;
  message: string;
}

export interface ApiError {
  /** The tRPC code ("BAD_REQUEST", "NOT_FOUND", "UNAUTHORIZED", ...), or "UNREACHABLE" when no answer came. */
  code: string;
  httpStatus: number | null;
  message: string;
  issues: FieldIssue[];
}

interface ErrorData {
  code?: string;
  httpStatus?: number;
  issues?: FieldIssue[];
}

/** The API error in `error`, or undefined when it is not one (a bug, an abort). */
export function apiErrorOf(error: unknown): ApiError | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data = error.data as ErrorData | undefined | null;
  if (!data?.code) {
    const cause = error.cause instanceof Error ? error.cause : undefined;
    const detail = (cause?.cause as Error | undefined)?.message ?? cause?.message ?? error.message;
    return { code: "UNREACHABLE", httpStatus: null, message: detail, issues: [] };
  }
  return {
    code: data.code,
    httpStatus: data.httpStatus ?? null,
    message: error.message,
    issues: Array.isArray(data.issues) ? data.issues : [],
  };
}

/**
 * `NOT_FOUND: orchestration "x" was not found`; with field issues, one `  field: message` line each
 * (the message, when it only repeats them, is left out).
 */
export function describeApiError(error: ApiError): string {
  const issueLines = error.issues.map((issue) => `${issue.path || "(input)"}: ${issue.message}`);
  const repeatsIssues = issueLines.length > 0 && issueLines.every((line) => error.message.includes(line));
  const head = repeatsIssues ? `${error.code}:` : `${error.code}: ${error.message}`;
  return [head, ...issueLines.map((line) => `  ${line}`)].join("\n");
}

export function isApiError(error: unknown, code: string): boolean {
  return apiErrorOf(error)?.code === code;
}
