// Tenant providers for tests: one pointing at the fake OpenAI-compatible server (whose models are its
// behaviours: "ok", "fail500", ...), with a key unique to the test so its requests can be told apart.

import type { TestClient } from "./client";
import { fakeOpenAiBaseUrl } from "./fake-openai";

export interface ModelSpec {
  id: string;
  contextWindow?: number;
  priceIn?: number;
  priceOut?: number;
  capabilities?: {
    reasoning?: boolean;
    tools?: boolean;
    coding?: boolean;
    structuredOutput?: boolean;
    streaming?: boolean;
  };
}

export function model(spec: ModelSpec) {
  return { contextWindow: 128_000, priceIn: 0, priceOut: 0, ...spec };
}

/** A fresh API key in the shape providers issue, different every call. */
export function providerKey(): string {
  return `sk-test-${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Creates a provider named `name` on the fake server with `models` (default: "ok") and a fresh key. */
export async function fakeProvider(trpc: TestClient, name = "my-fake", models: ModelSpec[] = [{ id: "ok" }]) {
  const apiKey = providerKey();
  const provider = await trpc.provider.create.mutate({
    name,
    kind: "openai-compatible",
    baseUrl: fakeOpenAiBaseUrl(),
    apiKey,
    models: models.map(model),
  });
  return { provider, apiKey };
}
