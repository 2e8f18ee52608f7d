// contextLimits.maxContext before a call: an input estimated over the smaller of the role's maxContext and
// what the model's window leaves after maxTokens fails with a non-retryable error naming both numbers
// (a retry would send the same input), or, where the role says onOverflow: "truncate", the step input is
// trimmed to fit. Pure: the messages, role and model in; the messages to send, or the error, out.
import type { PinnedModel, RoleSnapshot, StepError } from "../../durable-objects/engine/types";
import type { ChatMessage } from "./types";

export type ContextFit = { ok: true; messages: ChatMessage[] } | { ok: false; error: StepError };

/** About 4 characters a token: close for English text and code, and the same estimate usage falls back on. */
const CHARS_PER_TOKEN = 4;
export const TRUNCATION_MARKER = "\n… [truncated to fit the context limit]";

export function estimateInputTokens(messages: readonly ChatMessage[]): number {
  return Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / CHARS_PER_TOKEN);
}

/** The role's overflow policy; roles saved before it existed fail, as the default says. */
export function overflowPolicy(role: RoleSnapshot | undefined): "fail" | "truncate" {
  return role?.contextLimits.onOverflow === "truncate" ? "truncate" : "fail";
}

function configError(message: string): ContextFit {
  return { ok: false, error: { kind: "config", message, retryable: false } };
}

/** The step input (the first user message) cut so the whole request is within `limit` tokens. */
function truncated(messages: ChatMessage[], limit: number): ChatMessage[] | undefined {
  const index = messages.findIndex((m) => m.role === "user");
  const input = messages[index];
  if (!input) return undefined;
  const others = messages.reduce((n, m, i) => (i === index ? n : n + m.content.length), 0);
  const room = limit * CHARS_PER_TOKEN - others - TRUNCATION_MARKER.length;
  if (room <= 0) return undefined;
  const copy = [...messages];
  copy[index] = { ...input, content: input.content.slice(0, room) + TRUNCATION_MARKER };
  return copy;
}

export function fitContext(
  messages: ChatMessage[],
  role: RoleSnapshot | undefined,
  model: PinnedModel,
  maxTokens: number,
): ContextFit {
  const room = model.contextWindow - maxTokens;
  const maxContext = role?.contextLimits.maxContext ?? Number.POSITIVE_INFINITY;
  const limit = Math.min(maxContext, room);
  const estimate = estimateInputTokens(messages);
  if (estimate <= limit) return { ok: true, messages };
  if (room <= 0)
    return configError(
      `hyperparameters.maxTokens (${maxTokens}) leaves no room for input in model "${model.id}", whose context window is ${model.contextWindow} tokens; lower maxTokens`,
    );
  const bounds = `contextLimits.maxContext is ${Number.isFinite(maxContext) ? maxContext : "not set"}; model "${model.id}" reads ${model.contextWindow} tokens, ${room} after maxTokens ${maxTokens}`;
  if (overflowPolicy(role) === "truncate") {
    const trimmed = truncated(messages, limit);
    if (trimmed) return { ok: true, messages: trimmed };
    return configError(
      `the prompt is about ${estimate} tokens and would exceed the limit of ${limit} even with the step input cut away (${bounds}); shorten basePrompt`,
    );
  }
  return configError(
    `the step input is about ${estimate} tokens, over the limit of ${limit} (${bounds}); shorten the input, raise the limit, or set contextLimits.onOverflow: "truncate"`,
  );
}
