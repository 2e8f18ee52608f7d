// Reads an OpenAI-compatible chat-completions stream (SSE of chat.completion.chunk objects, then
// "[DONE]") into the same reply the non-streaming call returns, calling onText with the text so far as
// it grows. A stream that ends before its finish_reason or [DONE] is a retryable failure: the text so far
// is not the reply. An aborted call throws, as the non-streaming path does.
import { sseData } from "./sse";
import type { ModelReply, ModelRequest } from "./types";
import { providerError, textPreview, usageOf } from "./types";

interface ChunkBody {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  usage?: unknown;
  error?: { message?: unknown; type?: unknown; code?: unknown };
}

interface StreamState {
  text: string;
  /** A choice's finish_reason arrived: the text is whole (usage may still follow). */
  finished: boolean;
  /** "[DONE]" arrived. */
  done: boolean;
  usage?: unknown;
}

/** An error event inside a 200 stream: the request's own fault (bad request, key) is not worth a retry. */
function streamError(error: NonNullable<ChunkBody["error"]>): ModelReply {
  const message = typeof error.message === "string" ? error.message : JSON.stringify(error);
  const kind = `${String(error.type ?? "")} ${String(error.code ?? "")}`;
  const retryable = !/invalid_request|invalid_api_key|authentication|permission|not_found/i.test(kind);
  return providerError(
    `the model provider reported an error in its stream: ${message.slice(0, 300)}`,
    retryable,
  );
}

/** Folds one event's data into the state; answers a failure when the event is one. */
function applyEvent(
  state: StreamState,
  data: string,
  preview: (text: string) => void,
): ModelReply | undefined {
  if (data === "[DONE]") {
    state.done = true;
    return undefined;
  }
  let chunk: ChunkBody | null;
  try {
    chunk = JSON.parse(data) as ChunkBody | null;
  } catch {
    return providerError(
      `the model provider sent a stream event that is not JSON: ${data.slice(0, 120)}`,
      true,
    );
  }
  if (typeof chunk !== "object" || chunk === null)
    return providerError(
      `the model provider sent a stream event that is not an object: ${data.slice(0, 120)}`,
      true,
    );
  if (chunk.error) return streamError(chunk.error);
  const choice = chunk.choices?.[0];
  const content = choice?.delta?.content;
  if (typeof content === "string" && content.length > 0) {
    state.text += content;
    preview(state.text);
  }
  if (typeof choice?.finish_reason === "string") state.finished = true;
  if (chunk.usage !== undefined && chunk.usage !== null) state.usage = chunk.usage;
  return undefined;
}

export async function readCompletionStream(
  body: ReadableStream<Uint8Array>,
  request: ModelRequest,
  onText: (textSoFar: string) => void,
  signal: AbortSignal,
): Promise<ModelReply> {
  const state: StreamState = { text: "", finished: false, done: false };
  const preview = textPreview(onText);
  try {
    for await (const data of sseData(body)) {
      const failure = applyEvent(state, data, preview);
      if (failure) return failure;
      if (state.done) break;
    }
  } catch (error) {
    if (signal.aborted) throw error;
    const message = `the stream ended before the reply was complete: ${(error as Error).message}`;
    return providerError(message, true);
  }
  signal.throwIfAborted();
  if (!state.done && !state.finished)
    return providerError("the stream ended before the reply was complete", true);
  return { ok: true, text: state.text, usage: usageOf(state.usage, request, state.text) };
}
