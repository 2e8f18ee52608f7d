// MetaTools: the one capability a sandbox gets, and only for one run. The host binds a stub per run with
// props { tenantId, roleId, executionId?, runId, token, deadline } (ctx.exports.MetaTools({ props })) and
// hands it to that run's call; the loaded code can only call `call`, cannot change the props and cannot
// make a stub of its own, so it cannot name another tenant, act as another role, pick a run or outlive
// its deadline. Answers are values, never thrown errors, because thrown errors lose their properties
// across RPC.
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../env";
import { type ErrorCode, TroupeError } from "../errors";
import type { FieldIssue } from "../schemas/common";
import { admitCall, type RunCapability } from "./ledger";
import { invokeMeta, type MetaToolsProps } from "./meta-functions";

export type { MetaToolsProps, RunCapability };

export interface MetaFailure {
  name: string;
  code: ErrorCode | "INTERNAL_SERVER_ERROR";
  message: string;
  issues: FieldIssue[];
}

export type MetaReply = { ok: true; value: unknown } | { ok: false; error: MetaFailure };

/** The Error name agent code sees for each API error code. */
const ERROR_NAMES: Record<ErrorCode, string> = {
  BAD_REQUEST: "ValidationError",
  UNAUTHORIZED: "Unauthorized",
  FORBIDDEN: "PermissionDenied",
  NOT_FOUND: "NotFoundError",
  CONFLICT: "ConflictError",
  PRECONDITION_FAILED: "PreconditionFailed",
  TOO_MANY_REQUESTS: "LimitExceeded",
};

function failure(error: unknown): MetaFailure {
  if (error instanceof TroupeError) {
    return { name: ERROR_NAMES[error.code], code: error.code, message: error.message, issues: error.issues };
  }
  console.error("agent code meta call:", error);
  return {
    name: "InternalError",
    code: "INTERNAL_SERVER_ERROR",
    message: "internal error; it has been logged",
    issues: [],
  };
}

export class MetaTools extends WorkerEntrypoint<Env, RunCapability> {
  /** One meta function call of the run this stub was issued for; `payload` is the argument as JSON text. */
  async call(name: unknown, payload: unknown): Promise<MetaReply> {
    const props = this.ctx.props;
    const started = Date.now();
    let calls: { name: string; ok: boolean; durationMs: number }[] | undefined;
    try {
      if (typeof props?.tenantId !== "string" || typeof props.roleId !== "string") {
        throw new TroupeError("FORBIDDEN", "MetaTools is not bound to a tenant and a role");
      }
      calls = admitCall(props, started);
      const value = await invokeMeta(this.env, props, name, payload, started);
      calls.push({ name: String(name), ok: true, durationMs: Date.now() - started });
      return { ok: true, value };
    } catch (error) {
      calls?.push({ name: String(name).slice(0, 100), ok: false, durationMs: Date.now() - started });
      return { ok: false, error: failure(error) };
    }
  }
}
