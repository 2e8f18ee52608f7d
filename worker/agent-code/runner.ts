// Runs one piece of agent code for a role: compile (strip types, insert the guard), wait for an isolate
// slot, load the tenant's sandbox through the Worker Loader with no network and no bindings, hand the run
// its one capability (a MetaTools stub issued for this run alone), run it under a wall-clock limit, read
// its answer without trusting it, and record the run in D1.
import { exports } from "cloudflare:workers";
import { newId, sha256Hex } from "../auth/crypto";
import { AgentRunLog, type AgentRunOutcome } from "../db/agent-runs";
import { openDb } from "../db/client";
import type { Env } from "../env";
import { acquireAll, type IsolateGate } from "./gate";
import { closeLedger, type MetaCallRecord, openLedger } from "./ledger";
import { MAX_CODE_BYTES, SANDBOX_COMPATIBILITY_DATE, SANDBOX_CPU_MS } from "./limits";
import type { MetaToolsProps } from "./meta-functions";
import type { Position } from "./positions";
import { agentPosition, readSandboxReply, type SandboxOutcome } from "./sandbox-reply";
import { SANDBOX_AGENT_MODULE, SANDBOX_MAIN_MODULE, SANDBOX_SOURCE } from "./sandbox-source";
import { type AgentCodeError, compileAgentCode } from "./transform";

export interface AgentRunRequest extends MetaToolsProps {
  code: string;
  timeoutMs: number;
  stepName?: string;
  turn?: number;
  /** Slots held while the isolate is in flight: the request's, and the Durable Object's inside one. */
  gates: readonly IsolateGate[];
  signal?: AbortSignal;
}

export interface AgentRunResult extends Omit<SandboxOutcome, "calls"> {
  calls: MetaCallRecord[];
  durationMs: number;
  /** Whether this run had to start its isolate (false: a warm isolate with the same id was reused). */
  coldStart: boolean;
}

type Attempt = Omit<AgentRunResult, "durationMs"> & { sandboxCalls?: number };

/** How long past the run's own deadline the host waits for the sandbox to report its guard's error. */
const REPORT_GRACE_MS = 500;

interface SandboxRpc {
  /** `meta` is the run's MetaTools stub: usable only within this call, refused once the run ends. */
  run(request: { deadline: number; timeoutMs: number }, meta: unknown): Promise<unknown>;
}

type Settled =
  | { kind: "value"; value: unknown }
  | { kind: "rejected"; error: unknown }
  | { kind: "timeout" }
  | { kind: "aborted" };

function settle(call: Promise<unknown>, until: number, signal: AbortSignal | undefined): Promise<Settled> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: "timeout" }), Math.max(0, until - Date.now()));
    const onAbort = () => resolve({ kind: "aborted" });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    void call
      .then(
        (value) => resolve({ kind: "value", value }),
        (error: unknown) => resolve({ kind: "rejected", error }),
      )
      .finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      });
  });
}

const failed = (error: AgentCodeError, calls: MetaCallRecord[] = [], coldStart = false): Attempt => ({
  ok: false,
  logs: [],
  result: null,
  error,
  calls,
  coldStart,
});

function failureOf(
  settled: Exclude<Settled, { kind: "value" }>,
  timeoutMs: number,
  toSource: (at: Position) => Position = (at) => at,
): AgentCodeError {
  const at = { line: null, column: null };
  switch (settled.kind) {
    case "timeout":
      return {
        name: "TimeoutError",
        message: `the code ran longer than its time limit of ${timeoutMs} ms`,
        ...at,
      };
    case "aborted":
      return {
        name: "Cancelled",
        message: "the run was cancelled (its step was stopped or timed out)",
        ...at,
      };
    case "rejected": {
      // The isolate could not start (an early error sucrase lets through, such as a repeated `let`):
      // "Failed to start Worker:\nUncaught SyntaxError: <message>\n  at agent.js:2:4".
      const error = settled.error as { name?: unknown; message?: unknown } | undefined;
      const text = String(error?.message ?? settled.error);
      if (/hung and would never generate a response/.test(text)) {
        const message = "the code waits for something that can never happen (a promise nothing resolves)";
        return { name: "TimeoutError", message, ...at };
      }
      const uncaught = /Uncaught (\w+): ([^\n]*)/.exec(text);
      // This report counts columns from 0, unlike stack traces.
      const where = agentPosition(text, ({ line, column }) => toSource({ line, column: column + 1 }));
      return {
        name: uncaught?.[1] ?? String(error?.name ?? "Error"),
        message: uncaught?.[2] ?? text,
        line: where?.line ?? null,
        column: where?.column ?? null,
      };
    }
    default:
      return settled satisfies never;
  }
}

async function attempt(env: Env, request: AgentRunRequest): Promise<Attempt> {
  const bytes = new TextEncoder().encode(request.code).byteLength;
  if (bytes > MAX_CODE_BYTES) {
    const message = `the code is ${bytes} bytes; the limit is ${MAX_CODE_BYTES}`;
    return failed({ name: "LimitExceeded", message, line: null, column: null });
  }
  const compiled = compileAgentCode(request.code);
  if (!compiled.ok) return failed(compiled.error);
  const owner: MetaToolsProps = {
    tenantId: request.tenantId,
    roleId: request.roleId,
    ...(request.executionId ? { executionId: request.executionId } : {}),
  };
  // Everything the isolate is built from is in its id: a cached isolate always holds exactly this code
  // (the role and execution too, so runs of two roles never share an isolate's memory).
  const fingerprint = [
    SANDBOX_COMPATIBILITY_DATE,
    SANDBOX_CPU_MS,
    SANDBOX_SOURCE,
    owner.roleId,
    owner.executionId ?? "",
    compiled.module,
  ].join("\n");
  const isolateId = `agent:${owner.tenantId}:${await sha256Hex(fingerprint)}`;

  const release = await acquireAll(request.gates);
  if (request.signal?.aborted) {
    release();
    return failed(failureOf({ kind: "aborted" }, request.timeoutMs));
  }
  const runId = newId("run");
  const deadline = Date.now() + request.timeoutMs;
  // The run's capability: bound to this run id, a fresh token and the deadline; issued here and nowhere else.
  const meta = exports.MetaTools({ props: openLedger(runId, owner, deadline, Date.now()) });
  let coldStart = false;
  const worker = env.LOADER.get(isolateId, () => {
    coldStart = true;
    return {
      compatibilityDate: SANDBOX_COMPATIBILITY_DATE,
      mainModule: SANDBOX_MAIN_MODULE,
      modules: { [SANDBOX_MAIN_MODULE]: SANDBOX_SOURCE, [SANDBOX_AGENT_MODULE]: compiled.module },
      env: {},
      globalOutbound: null,
      limits: { cpuMs: SANDBOX_CPU_MS },
    };
  });
  const call = Promise.resolve().then(() =>
    (worker.getEntrypoint() as unknown as SandboxRpc).run({ deadline, timeoutMs: request.timeoutMs }, meta),
  );
  // The slot is held until the isolate call settles, even when the host stops waiting for it first.
  void call.then(release, release);
  const settled = await settle(call, deadline + REPORT_GRACE_MS, request.signal);
  const calls = closeLedger(runId, Date.now());
  if (settled.kind !== "value") {
    return failed(failureOf(settled, request.timeoutMs, compiled.position), calls, coldStart);
  }
  const outcome = readSandboxReply(settled.value, compiled.position);
  return { ...outcome, calls, coldStart, sandboxCalls: outcome.calls };
}

function outcomeOf(result: Attempt): AgentRunOutcome {
  if (result.ok) return "ok";
  switch (result.error?.name) {
    case "SyntaxError":
      return "syntax_error";
    case "TimeoutError":
      return "timeout";
    case "LimitExceeded":
      return "limit_exceeded";
    case "Cancelled":
      return "cancelled";
    default:
      return /call stack/i.test(result.error?.message ?? "") ? "limit_exceeded" : "error";
  }
}

export async function runAgentCode(env: Env, request: AgentRunRequest): Promise<AgentRunResult> {
  const started = Date.now();
  const { sandboxCalls, ...result } = await attempt(env, request);
  const durationMs = Date.now() - started;
  try {
    await new AgentRunLog(openDb(env.DB), request.tenantId).record({
      roleId: request.roleId,
      ...(request.executionId ? { executionId: request.executionId } : {}),
      ...(request.stepName ? { stepName: request.stepName } : {}),
      ...(request.turn !== undefined ? { turn: request.turn } : {}),
      codeHash: await sha256Hex(request.code),
      codeBytes: new TextEncoder().encode(request.code).byteLength,
      durationMs,
      calls: Math.max(result.calls.length, sandboxCalls ?? 0),
      outcome: outcomeOf(result),
      ...(result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}),
    });
  } catch (error) {
    console.error("agent code: the run could not be recorded:", error);
  }
  return { ...result, durationMs };
}
