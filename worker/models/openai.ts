// Any OpenAI-compatible chat-completions endpoint (OpenAI, OpenRouter, vLLM, Ollama, ...): base URL and
// key come from secrets. Maps HTTP failures to step errors: 429 honours Retry-After, 5xx and malformed
// bodies are retryable, other 4xx are not (retrying a bad request cannot help).
import type { Usage } from "../../durable-objects/engine/types";
import type { ModelProvider, ModelReply, ModelRequest } from "./types";
import { estimateTokens, providerError } from "./types";

/**
 * Retry-After is whole seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored, so the caller's
 * default applies. Checked by shape first: Number() would read "1e3" or "0x10", and Date.parse reads "-1"
 * as a date in 2001, turning a broken header into "retry now".
 */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  const value = header?.trim() ?? "";
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface CompletionBody {
  choices?: { message?: { content?: unknown } }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
}

/** A usage count as the server sent it, if it is one: a string or negative number would poison costs. */
function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function parseBody(body: unknown, request: ModelRequest): { text: string; usage: Usage } | undefined {
  const content = (body as CompletionBody | null)?.choices?.[0]?.message?.content;
  if (typeof content !== "string") return undefined;
  const usage = (body as CompletionBody).usage;
  return {
    text: content,
    usage: {
      model: request.model,
      tokensIn:
        tokenCount(usage?.prompt_tokens) ??
        request.messages.reduce((n, m) => n + estimateTokens(m.content), 0),
      tokensOut: tokenCount(usage?.completion_tokens) ?? estimateTokens(content),
      costUsd: 0,
    },
  };
}

function requestBody(request: ModelRequest): string {
  return JSON.stringify({
    model: request.model,
    messages: request.messages,
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.json ? { response_format: { type: "json_object" } } : {}),
  });
}

/** Maps one complete HTTP answer (status, headers, body text) to the provider's reply. */
function replyFrom(response: Response, text: string, request: ModelRequest): ModelReply {
  if (response.status === 429) {
    const wait = retryAfterMs(response.headers.get("retry-after"), Date.now()) ?? 1000;
    return providerError(`the model provider is rate limiting (429); retry after ${wait} ms`, true, wait);
  }
  if (!response.ok) {
    const retryable = response.status >= 500 || response.status === 408;
    return providerError(`the model provider answered ${response.status}: ${text.slice(0, 300)}`, retryable);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return providerError(`the model provider sent a body that is not JSON: ${text.slice(0, 120)}`, true);
  }
  const parsed = parseBody(body, request);
  if (!parsed) return providerError("the model provider's reply has no choices[0].message.content", true);
  return { ok: true, ...parsed };
}

/** An aborted call throws (the caller aborted it and ignores the result); other failures are replies. */
export function openAiProvider(baseUrl: string, apiKey: string | undefined): ModelProvider {
  const endpoint = `${baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const headers = {
    "content-type": "application/json",
    ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  };
  return {
    name: "openai",
    async complete(request, signal): Promise<ModelReply> {
      let response: Response;
      try {
        response = await fetch(endpoint, { method: "POST", signal, headers, body: requestBody(request) });
      } catch (error) {
        if (signal.aborted) throw error;
        return providerError(`could not reach the model provider: ${(error as Error).message}`, true);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        // Headers arrived but the body did not (connection dropped mid-reply): as retryable as no answer.
        if (signal.aborted) throw error;
        const message = `could not read the model provider's reply (${response.status}): ${(error as Error).message}`;
        return providerError(message, true);
      }
      return replyFrom(response, text, request);
    },
  };
}
