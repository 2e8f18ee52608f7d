// Any OpenAI-compatible chat-completions endpoint (OpenAI, OpenRouter, vLLM, Ollama, ...): base URL and
// key come from secrets. Maps HTTP failures to step errors: 429 honours Retry-After, 5xx and malformed
// bodies are retryable, other 4xx are not (retrying a bad request cannot help). Streams (SSE, parsed in
// openai-stream.ts) when the request has onText; the reply is the same either way.
import { readCompletionStream } from "./openai-stream";
import { withSchemaInstruction } from "./schema-prompt";
import type { ModelProvider, ModelReply, ModelRequest } from "./types";
import { providerError, textPreview, usageOf } from "./types";

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
  usage?: unknown;
}

function parseBody(body: unknown, request: ModelRequest): ModelReply | undefined {
  const content = (body as CompletionBody | null)?.choices?.[0]?.message?.content;
  if (typeof content !== "string") return undefined;
  return { ok: true, text: content, usage: usageOf((body as CompletionBody).usage, request, content) };
}

/**
 * json_schema (structured outputs) where the model takes it; otherwise json_object, with the schema in
 * the system prompt (withSchemaInstruction) so the model still knows the shape. strict stays false:
 * strict mode refuses schemas outside OpenAI's subset, and the reply is validated on return anyway.
 */
function responseFormat(request: ModelRequest): Record<string, unknown> | undefined {
  if (request.responseSchema && request.structuredOutput)
    return {
      type: "json_schema",
      json_schema: { name: "step_output", schema: request.responseSchema, strict: false },
    };
  if (request.json || request.responseSchema) return { type: "json_object" };
  return undefined;
}

function requestBody(request: ModelRequest): string {
  const format = responseFormat(request);
  const schemaInPrompt = request.structuredOutput ? undefined : request.responseSchema;
  return JSON.stringify({
    model: request.model,
    messages: schemaInPrompt ? withSchemaInstruction(request.messages, schemaInPrompt) : request.messages,
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(format ? { response_format: format } : {}),
    ...(request.onText ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

/** Maps an answer that is not a success (status, headers, body text) to a failure, or undefined for a 2xx. */
function failureFrom(response: Response, text: string): ModelReply | undefined {
  if (response.status === 429) {
    const wait = retryAfterMs(response.headers.get("retry-after"), Date.now()) ?? 1000;
    return providerError(`the model provider is rate limiting (429); retry after ${wait} ms`, true, wait);
  }
  if (!response.ok) {
    const retryable = response.status >= 500 || response.status === 408;
    return providerError(`the model provider answered ${response.status}: ${text.slice(0, 300)}`, retryable);
  }
  return undefined;
}

/** Maps one complete HTTP answer (status, headers, body text) to the provider's reply. */
function replyFrom(response: Response, text: string, request: ModelRequest): ModelReply {
  const failure = failureFrom(response, text);
  if (failure) return failure;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return providerError(`the model provider sent a body that is not JSON: ${text.slice(0, 120)}`, true);
  }
  return (
    parseBody(body, request) ??
    providerError("the model provider's reply has no choices[0].message.content", true)
  );
}

/** Reads the whole body; a connection dropped mid-body is as retryable as no answer. */
async function readWhole(
  response: Response,
  request: ModelRequest,
  signal: AbortSignal,
): Promise<ModelReply> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (signal.aborted) throw error;
    const message = `could not read the model provider's reply (${response.status}): ${(error as Error).message}`;
    return providerError(message, true);
  }
  const reply = replyFrom(response, text, request);
  // A server that ignored `stream: true` answered in one piece: the watcher still sees the text, once.
  if (reply.ok && request.onText) textPreview(request.onText)(reply.text);
  return reply;
}

function isEventStream(response: Response): boolean {
  return response.ok && /^text\/event-stream\b/i.test(response.headers.get("content-type") ?? "");
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
      if (request.onText && isEventStream(response) && response.body)
        return readCompletionStream(response.body, request, request.onText, signal);
      return readWhole(response, request, signal);
    },
  };
}
