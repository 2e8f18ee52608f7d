// Reads what a sandbox answered without trusting it: every field is checked and bounded again here, the
// logs are cut to the limit (saying so), and an error's position is mapped back to the agent's own code.
import type { JsonValue } from "../schemas/common";
import { MAX_LOG_CHARS, MAX_LOG_ENTRIES, MAX_RESULT_CHARS } from "./limits";
import type { Position } from "./positions";
import type { AgentCodeError } from "./transform";

export type LogLevel = "log" | "info" | "warn" | "error";
export interface LogEntry {
  level: LogLevel;
  message: string;
}

export interface SandboxOutcome {
  ok: boolean;
  logs: LogEntry[];
  result: JsonValue;
  error: AgentCodeError | null;
  /** Meta calls the sandbox says it made (the host's ledger is preferred when it has them). */
  calls: number;
}

const LEVELS = new Set<string>(["log", "info", "warn", "error"]);

type Loose = Record<string, unknown>;
const asRecord = (value: unknown): Loose =>
  typeof value === "object" && value !== null ? (value as Loose) : {};
const asCount = (value: unknown) =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;

function readLogs(raw: Loose): LogEntry[] {
  const logs: LogEntry[] = [];
  let chars = 0;
  let droppedEntries = asCount(raw.droppedEntries);
  let droppedChars = asCount(raw.droppedChars);
  for (const item of Array.isArray(raw.logs) ? raw.logs : []) {
    const entry = asRecord(item);
    const message = typeof entry.message === "string" ? entry.message : String(entry.message);
    const room = MAX_LOG_CHARS - chars;
    if (logs.length >= MAX_LOG_ENTRIES || room <= 0) {
      droppedEntries += 1;
      droppedChars += message.length;
      continue;
    }
    const kept = message.slice(0, room);
    droppedChars += message.length - kept.length;
    chars += kept.length;
    logs.push({ level: LEVELS.has(String(entry.level)) ? (entry.level as LogLevel) : "log", message: kept });
  }
  if (droppedEntries > 0 || droppedChars > 0) {
    logs.push({
      level: "warn",
      message: `[troupe] console output truncated: ${droppedChars} more characters (${droppedEntries} whole calls) were dropped; the limit is ${MAX_LOG_CHARS} characters per run`,
    });
  }
  return logs;
}

function readResult(raw: Loose): JsonValue {
  const text = typeof raw.result === "string" ? raw.result.slice(0, MAX_RESULT_CHARS) : "null";
  const total = asCount(raw.resultChars);
  if (total > MAX_RESULT_CHARS || text.length < total) {
    return `[troupe] result truncated: ${total} characters of JSON, the limit is ${MAX_RESULT_CHARS}; it begins: ${text.slice(0, 2000)}`;
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return null;
  }
}

/** The first frame of the agent's module in a stack, as a position in the agent's own code. */
export function agentPosition(stack: string, toSource: (at: Position) => Position): Position | undefined {
  const match = /agent\.js:(\d+):(\d+)/.exec(stack);
  if (!match) return undefined;
  return toSource({ line: Number(match[1]), column: Number(match[2]) });
}

export function readError(raw: unknown, toSource: (at: Position) => Position): AgentCodeError {
  const error = asRecord(raw);
  const name = (typeof error.name === "string" ? error.name : "Error").slice(0, 100);
  let message = (typeof error.message === "string" ? error.message : "").slice(0, 4000);
  if (name === "RangeError" && /call stack/i.test(message)) {
    message += ": the code recursed too deeply (unbounded recursion?)";
  }
  const at = agentPosition(typeof error.stack === "string" ? error.stack : "", toSource);
  return {
    name,
    message,
    line: at?.line ?? null,
    column: at?.column ?? null,
    ...(typeof error.code === "string" ? { code: error.code.slice(0, 50) } : {}),
  };
}

export function readSandboxReply(raw: unknown, toSource: (at: Position) => Position): SandboxOutcome {
  const reply = asRecord(raw);
  const ok = reply.ok === true;
  return {
    ok,
    logs: readLogs(reply),
    result: ok ? readResult(reply) : null,
    error: ok ? null : readError(reply.error, toSource),
    calls: asCount(reply.calls),
  };
}
