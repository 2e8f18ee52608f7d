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
  /** The step wants JSON back (outputFormat "json", or an outputSchema). */
  json: boolean;
  /**
   * Streaming: called with the whole reply text so far each time it grows. Only a preview: the reply
   * the call returns is what counts, and a provider that cannot stream simply never calls it.
   */
  onText?: (textSoFar: string) => void;
  /** The step's outputSchema (a JSON Schema object) the reply must match. */
  responseSchema?: Record<string, unknown>;
  /**
   * The model accepts response_format json_schema (structured outputs). Without it a responseSchema is
   * asked for as json_object with the schema in the system prompt.
   */
  structuredOutput?: boolean;
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

/** A usage count as the server sent it, if it is one: a string or negative number would poison costs. */
function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Usage from an OpenAI-style `usage` object ({ prompt_tokens, completion_tokens }), estimated where absent. */
export function usageOf(usage: unknown, request: ModelRequest, text: string): Usage {
  const counts = (typeof usage === "object" && usage !== null ? usage : {}) as Record<string, unknown>;
  return {
    model: request.model,
    tokensIn:
      tokenCount(counts.prompt_tokens) ?? request.messages.reduce((n, m) => n + estimateTokens(m.content), 0),
    tokensOut: tokenCount(counts.completion_tokens) ?? estimateTokens(text),
    costUsd: 0,
  };
}

/** The caller's onText made harmless: a preview that throws must not fail the call it previews. */
export function textPreview(onText: (textSoFar: string) => void): (textSoFar: string) => void {
  return (textSoFar) => {
    try {
      onText(textSoFar);
    } catch {
      // Best effort by contract: the committed reply never depends on the preview.
    }
  };
}
