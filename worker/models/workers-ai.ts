// Workers AI through the `AI` binding: the default provider when deployed with DEFAULT_MODEL_PROVIDER
// = "workers-ai". Errors from the binding are treated as retryable provider failures.
import type { ModelProvider, ModelReply } from "./types";
import { estimateTokens, providerError } from "./types";

export interface AiBinding {
  run(model: string, input: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

interface AiOutput {
  response?: unknown;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export function workersAiProvider(ai: AiBinding): ModelProvider {
  return {
    name: "workers-ai",
    async complete(request, signal): Promise<ModelReply> {
      let output: AiOutput;
      try {
        output = (await ai.run(
          request.model,
          {
            messages: request.messages,
            temperature: request.temperature,
            max_tokens: request.maxTokens,
            ...(request.topP !== undefined ? { top_p: request.topP } : {}),
          },
          { signal },
        )) as AiOutput;
      } catch (error) {
        if (signal.aborted) throw error;
        const message = (error as Error).message;
        return providerError(`Workers AI failed: ${message}`, !/\b(400|invalid|not found)\b/i.test(message));
      }
      const text =
        typeof output?.response === "string" ? output.response : JSON.stringify(output?.response ?? "");
      const tokensIn =
        output?.usage?.prompt_tokens ?? request.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
      const tokensOut = output?.usage?.completion_tokens ?? estimateTokens(text);
      return { ok: true, text, usage: { model: request.model, tokensIn, tokensOut, costUsd: 0 } };
    },
  };
}
