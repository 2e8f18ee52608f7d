// provider.test: one tiny call (maxTokens 8) to one of the provider's models with its stored key, timed.
// A provider that fails answers { ok: false, error } rather than an API error: the test did its job.

import type { ProviderSummary } from "../db/providers";
import { invalid } from "../errors";
import { type ModelEnv, tenantProvider } from "../models/gateway";

export interface ConnectionTest {
  ok: boolean;
  latencyMs: number;
  model: string;
  /** The model's reply (its first 200 characters) when ok. */
  reply?: string;
  /** Why it failed, when not ok. */
  error?: string;
}

const TEST_TIMEOUT_MS = 15_000;
const TEST_MAX_TOKENS = 8;
const REPLY_CHARS = 200;

function modelOfProvider(provider: ProviderSummary, modelId: string | undefined): string {
  if (modelId === undefined) return provider.models[0]?.id ?? "";
  if (provider.models.some((m) => m.id === modelId)) return modelId;
  const ids = provider.models.map((m) => m.id).join(", ");
  throw invalid([
    {
      path: "model",
      message: `provider "${provider.name}" has no model "${modelId}"; its models are ${ids}`,
    },
  ]);
}

export async function testConnection(
  env: ModelEnv,
  provider: ProviderSummary,
  apiKey: string | undefined,
  modelId?: string,
): Promise<ConnectionTest> {
  const model = modelOfProvider(provider, modelId);
  const target = tenantProvider({ kind: provider.kind, baseUrl: provider.baseUrl, apiKey }, env);
  if (typeof target === "string") return { ok: false, latencyMs: 0, model, error: target };
  const request = {
    model,
    messages: [
      { role: "system" as const, content: "This is a connection test. Reply with the word OK." },
      { role: "user" as const, content: "OK?" },
    ],
    temperature: 0,
    maxTokens: TEST_MAX_TOKENS,
    json: false,
  };
  const started = Date.now();
  try {
    const reply = await target.complete(request, AbortSignal.timeout(TEST_TIMEOUT_MS));
    const latencyMs = Date.now() - started;
    return reply.ok
      ? { ok: true, latencyMs, model, reply: reply.text.slice(0, REPLY_CHARS) }
      : { ok: false, latencyMs, model, error: reply.error.message };
  } catch (error) {
    const message = `no answer within ${TEST_TIMEOUT_MS} ms (${(error as Error).message})`;
    return { ok: false, latencyMs: Date.now() - started, model, error: message };
  }
}
