// Workers AI through the `AI` binding: the default provider when deployed with DEFAULT_MODEL_PROVIDER
// = "workers-ai". Errors from the binding are treated as retryable provider failures. With onText it
// streams (`stream: true` answers an SSE stream of { response } events, then [DONE]); with a schema on a
// model that takes JSON mode it does not, because Workers AI's JSON mode does not stream.
import { withSchemaInstruction } from "./schema-prompt";
import { sseData } from "./sse";
import type { ModelProvider, ModelReply, ModelRequest } from "./types";
import { providerError, textPreview, usageOf } from "./types";

export interface AiBinding {
  run(model: string, input: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

interface AiOutput {
  response?: unknown;
  usage?: unknown;
}

function inputOf(request: ModelRequest, stream: boolean): Record<string, unknown> {
  const jsonMode = request.responseSchema && request.structuredOutput ? request.responseSchema : undefined;
  const schemaInPrompt = jsonMode ? undefined : request.responseSchema;
  return {
    messages: schemaInPrompt ? withSchemaInstruction(request.messages, schemaInPrompt) : request.messages,
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(jsonMode ? { response_format: { type: "json_schema", json_schema: jsonMode } } : {}),
    ...(stream ? { stream: true } : {}),
  };
}

function failure(error: unknown, signal: AbortSignal): ModelReply {
  if (signal.aborted) throw error;
  const message = (error as Error).message;
  return providerError(`Workers AI failed: ${message}`, !/\b(400|invalid|not found)\b/i.test(message));
}

function replyOf(output: AiOutput, request: ModelRequest): ModelReply {
  // JSON mode answers `response` as the parsed object rather than its text.
  const text =
    typeof output?.response === "string" ? output.response : JSON.stringify(output?.response ?? "");
  return { ok: true, text, usage: usageOf(output?.usage, request, text) };
}

/** Reads the binding's SSE stream; a stream that ends without [DONE] is a retryable failure. */
async function readStream(
  stream: ReadableStream<Uint8Array>,
  request: ModelRequest,
  onText: (textSoFar: string) => void,
  signal: AbortSignal,
): Promise<ModelReply> {
  const preview = textPreview(onText);
  let text = "";
  let usage: unknown;
  let done = false;
  try {
    for await (const data of sseData(stream)) {
      if (data === "[DONE]") {
        done = true;
        break;
      }
      const event = JSON.parse(data) as AiOutput;
      if (typeof event?.response === "string" && event.response.length > 0) {
        text += event.response;
        preview(text);
      }
      if (event?.usage) usage = event.usage;
    }
  } catch (error) {
    if (signal.aborted) throw error;
    return providerError(`the Workers AI stream failed: ${(error as Error).message}`, true);
  }
  signal.throwIfAborted();
  if (!done) return providerError("the stream ended before the reply was complete", true);
  return { ok: true, text, usage: usageOf(usage, request, text) };
}

export function workersAiProvider(ai: AiBinding): ModelProvider {
  return {
    name: "workers-ai",
    async complete(request, signal): Promise<ModelReply> {
      const stream = request.onText !== undefined && !(request.responseSchema && request.structuredOutput);
      let output: unknown;
      try {
        output = await ai.run(request.model, inputOf(request, stream), { signal });
      } catch (error) {
        return failure(error, signal);
      }
      if (request.onText && output instanceof ReadableStream)
        return readStream(output, request, request.onText, signal);
      const reply = replyOf(output as AiOutput, request);
      if (reply.ok && request.onText) textPreview(request.onText)(reply.text);
      return reply;
    },
  };
}
