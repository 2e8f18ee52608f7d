// A step whose role holds the `meta` tool: the model sees the meta API in its system prompt; when a reply
// holds a ```ts block, the code runs in the tenant's sandbox and its logs, result and error go back to the
// model, up to the configured number of turns. The step's output is the final reply. Every other role
// goes straight to callModel (with the step's outputSchema; a meta role's replies hold code, so its schema
// is only checked on the final reply, by the caller). Never throws for an expected failure, like callModel.
import type {
  AgentTurn,
  AttemptResult,
  JsonValue,
  RoleSnapshot,
  Usage,
} from "../../durable-objects/engine/types";
import type { Env } from "../env";
import { buildRequest, callModel, callModelWithMessages } from "../models/gateway";
import type { ChatMessage } from "../models/types";
import { isMetaRole } from "../schemas/role";
import { objectGate } from "./gate";
import {
  DEFAULT_AGENT_MAX_TURNS,
  DEFAULT_TIMEOUT_MS,
  ISOLATES_PER_OBJECT,
  ISOLATES_PER_REQUEST,
  MAX_AGENT_MAX_TURNS,
  MIN_TIMEOUT_MS,
} from "./limits";
import { agentCodePrompt } from "./meta-api";
import { type AgentRunResult, runAgentCode } from "./runner";

export interface AgentStepContext {
  tenantId: string;
  executionId: string;
  stepName: string;
  /** The attempt's deadline (epoch ms): no code run may outlast it. */
  deadline: number;
  /** Streaming: the reply text so far, each time it grows (each turn's reply starts again from ""). */
  onText?: (textSoFar: string) => void;
  /** The step's outputSchema, sent to the provider for roles without `meta` (whose turns hold code). */
  outputSchema?: Record<string, unknown>;
}

/** Stored turns are clipped: they live in the execution's Durable Object storage (2 MB per value). */
const TURN_TEXT_CHARS = 8_000;
const TURN_DETAIL_CHARS = 4_000;
/** What the model is shown of a run's console output and result. */
const FEEDBACK_CHARS = 12_000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… [truncated]` : text);

export function maxTurnsOf(env: Pick<Env, "AGENT_MAX_TURNS">): number {
  const configured = Number.parseInt(env.AGENT_MAX_TURNS ?? "", 10);
  return Number.isInteger(configured) && configured >= 1
    ? Math.min(configured, MAX_AGENT_MAX_TURNS)
    : DEFAULT_AGENT_MAX_TURNS;
}

/** The first ```ts or ```typescript block of a reply, or undefined. */
export function firstCodeBlock(reply: string): string | undefined {
  return /^[ \t]*```(?:ts|typescript)[ \t]*\r?\n([\s\S]*?)\r?\n?^[ \t]*```/m.exec(reply)?.[1];
}

function addUsage(total: Usage | undefined, usage: Usage | undefined): Usage | undefined {
  if (!usage) return total;
  if (!total) return usage;
  return {
    model: usage.model,
    tokensIn: total.tokensIn + usage.tokensIn,
    tokensOut: total.tokensOut + usage.tokensOut,
    costUsd: total.costUsd + usage.costUsd,
  };
}

const logText = (run: AgentRunResult) =>
  run.logs.map((entry) => `[${entry.level}] ${entry.message}`).join("\n");

function resultText(run: AgentRunResult): string {
  return run.result === null ? "none" : JSON.stringify(run.result, null, 2);
}

function errorText(run: AgentRunResult): string {
  const error = run.error;
  if (!error) return "";
  const at = error.line === null ? "" : ` (line ${error.line}, column ${error.column})`;
  return `${error.name}: ${error.message}${at}`;
}

/** The user message that hands a run's outcome back to the model. */
export function feedback(run: AgentRunResult): string {
  return [
    `Your code ${run.ok ? "ran" : "failed"} in ${run.durationMs} ms and made ${run.calls.length} meta call(s).`,
    ...(run.ok ? [] : [`Error: ${errorText(run)}`]),
    `Console output:\n${clip(logText(run), FEEDBACK_CHARS) || "(none)"}`,
    `Result: ${clip(resultText(run), FEEDBACK_CHARS)}`,
    "Reply with another ```ts block to run more code, or with your final answer and no code block.",
  ].join("\n");
}

function turnRun(run: AgentRunResult): NonNullable<AgentTurn["run"]> {
  const result = resultText(run);
  return {
    ok: run.ok,
    logs: clip(logText(run), TURN_DETAIL_CHARS),
    result: result.length > TURN_DETAIL_CHARS ? clip(result, TURN_DETAIL_CHARS) : run.result,
    error: run.error && { ...run.error, message: clip(run.error.message, TURN_DETAIL_CHARS) },
    calls: run.calls.length,
    durationMs: run.durationMs,
  };
}

export async function callModelWithAgentCode(
  env: Env,
  role: RoleSnapshot | undefined,
  input: JsonValue,
  json: boolean,
  signal: AbortSignal,
  step: AgentStepContext,
): Promise<AttemptResult> {
  const streaming = step.onText ? { onText: step.onText } : {};
  if (!role || !isMetaRole(role.tools)) {
    const schema = step.outputSchema ? { outputSchema: step.outputSchema } : {};
    return callModel(env, role, input, json, signal, { tenantId: step.tenantId, ...streaming, ...schema });
  }
  const maxTurns = maxTurnsOf(env);
  const [system, ...rest] = buildRequest(role, "", input, json).messages;
  const messages: ChatMessage[] = [
    { role: "system", content: `${system?.content ?? ""}\n\n${agentCodePrompt(maxTurns)}` },
    ...rest,
  ];
  // Only alarm invocations run steps, one at a time: the per-request limit (4) binds within the object's (10).
  const gates = [
    objectGate(step.executionId, ISOLATES_PER_OBJECT),
    objectGate(`${step.executionId}#invocation`, ISOLATES_PER_REQUEST),
  ];
  const turns: AgentTurn[] = [];
  let usage: Usage | undefined;
  for (let turn = 1; ; turn += 1) {
    const reply = await callModelWithMessages(env, role, messages, json, signal, {
      tenantId: step.tenantId,
      ...streaming,
    });
    usage = addUsage(usage, reply.usage);
    if (!reply.ok) return { ok: false, error: reply.error, ...(usage ? { usage } : {}), turns };
    const code = firstCodeBlock(reply.text);
    const text = clip(reply.text, TURN_TEXT_CHARS);
    if (code === undefined || turn >= maxTurns) {
      const unrun =
        code === undefined
          ? {}
          : { code: clip(code, TURN_TEXT_CHARS), note: `not run: the step allows ${maxTurns} turns` };
      turns.push({ turn, reply: text, ...unrun });
      return { ok: true, text: reply.text, usage: usage ?? reply.usage, turns };
    }
    const timeoutMs = Math.max(
      MIN_TIMEOUT_MS,
      Math.min(DEFAULT_TIMEOUT_MS, step.deadline - Date.now() - 100),
    );
    const run = await runAgentCode(env, {
      tenantId: step.tenantId,
      roleId: role.id,
      executionId: step.executionId,
      stepName: step.stepName,
      turn,
      code,
      timeoutMs,
      gates,
      signal,
    });
    turns.push({ turn, reply: text, code: clip(code, TURN_TEXT_CHARS), run: turnRun(run) });
    if (signal.aborted) {
      const error = {
        kind: "cancelled" as const,
        message: "the step was stopped while its code ran",
        retryable: false,
      };
      return { ok: false, error, ...(usage ? { usage } : {}), turns };
    }
    messages.push({ role: "assistant", content: reply.text }, { role: "user", content: feedback(run) });
  }
}
