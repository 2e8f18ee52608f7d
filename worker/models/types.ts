// The provider interface every model backend implements, and the tagged failures it may return.
// A provider never throws for an expected failure: it returns { ok: false, error } with a retry hint.
import type { StepError, Usage } from "../../durable-objects/engine/types";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ModelRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  topP?: number;
  /** The step wants JSON back (outputFormat "json"). */
  json: boolean;
}

export type ModelReply = { ok: true; text: string; usage: Usage } | { ok: false; error: StepError };

export interface ModelProvider {
  readonly name: string;
  complete(request: ModelRequest, signal: AbortSignal): Promise<ModelReply>;
}

export function providerError(message: string, retryable: boolean, retryAfterMs?: number): ModelReply {
  return {
    ok: false,
    error: {
      kind: retryAfterMs !== undefined ? "rate_limited" : "provider",
      message,
      retryable,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    },
  };
}

/** A rough token count for providers that do not report usage (about 4 characters a token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
