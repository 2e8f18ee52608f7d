// The platform's model catalog: what each model can do and what it costs, and which of them this
// deployment offers (env). Tenants' own models come from their providers (worker/db/providers.ts).
import type { PinnedModel } from "../../durable-objects/engine/types";
import type { TenantModel } from "../db/providers";
import type { ProviderModel } from "../schemas/provider";
import type { ModelEnv } from "./gateway";
export type ProviderName = "local" | "workers-ai" | "openai";

export interface CatalogModel {
  id: string;
  provider: ProviderName;
  contextWindow: number;
  /** The most tokens one reply may have, where published; otherwise the context window bounds it. */
  maxOutputTokens?: number;
  reasoning: boolean;
  tools: boolean;
  coding: boolean;
  /** Accepts response_format json_schema. */
  structuredOutput: boolean;
  streaming: boolean;
  /** US dollars per million tokens. */
  priceIn: number;
  priceOut: number;
}

export const LOCAL_MODEL = "local/simulated";

/** Workers AI models for deployment (prices per million tokens as published, approximate). */
export const DEFAULT_CATALOG: CatalogModel[] = [
  {
    id: LOCAL_MODEL,
    provider: "local",
    contextWindow: 1_000_000,
    reasoning: true,
    tools: true,
    coding: true,
    structuredOutput: false,
    streaming: false,
    priceIn: 0,
    priceOut: 0,
  },
  {
    id: "@cf/meta/llama-3.1-8b-instruct-fast",
    provider: "workers-ai",
    contextWindow: 128_000,
    reasoning: false,
    tools: false,
    coding: false,
    structuredOutput: false,
    streaming: true,
    priceIn: 0.045,
    priceOut: 0.384,
  },
  {
    id: "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    provider: "workers-ai",
    contextWindow: 24_000,
    reasoning: false,
    tools: true,
    coding: true,
    structuredOutput: false,
    streaming: true,
    priceIn: 0.293,
    priceOut: 2.253,
  },
  {
    id: "@cf/qwen/qwen2.5-coder-32b-instruct",
    provider: "workers-ai",
    contextWindow: 32_768,
    reasoning: false,
    tools: false,
    coding: true,
    structuredOutput: false,
    streaming: true,
    priceIn: 0.66,
    priceOut: 1.0,
  },
  {
    id: "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
    provider: "workers-ai",
    contextWindow: 80_000,
    reasoning: true,
    tools: false,
    coding: true,
    structuredOutput: false,
    streaming: true,
    priceIn: 0.497,
    priceOut: 4.881,
  },
  {
    id: "@cf/openai/gpt-oss-20b",
    provider: "workers-ai",
    contextWindow: 128_000,
    reasoning: true,
    tools: true,
    coding: true,
    structuredOutput: false,
    streaming: true,
    priceIn: 0.2,
    priceOut: 0.3,
  },
  {
    id: "@cf/openai/gpt-oss-120b",
    provider: "workers-ai",
    contextWindow: 128_000,
    reasoning: true,
    tools: true,
    coding: true,
    structuredOutput: false,
    streaming: true,
    priceIn: 0.35,
    priceOut: 0.75,
  },
];

type OpenAiFacts = Pick<
  CatalogModel,
  "contextWindow" | "maxOutputTokens" | "reasoning" | "priceIn" | "priceOut"
>;

const facts = (
  contextWindow: number,
  maxOutputTokens: number,
  reasoning: boolean,
  priceIn: number,
  priceOut: number,
): OpenAiFacts => ({ contextWindow, maxOutputTokens, reasoning, priceIn, priceOut });

/**
 * OpenAI's published figures per model: context window, output cap (tokens), whether it reasons, and
 * prices (US dollars per million tokens in and out, standard tier).
 */
const OPENAI_MODELS_KNOWN: Record<string, OpenAiFacts> = {
  "gpt-4o-mini": facts(128_000, 16_384, false, 0.15, 0.6),
  "gpt-4o": facts(128_000, 16_384, false, 2.5, 10),
  "gpt-4.1": facts(1_047_576, 32_768, false, 2, 8),
  "gpt-4.1-mini": facts(1_047_576, 32_768, false, 0.4, 1.6),
  "gpt-4.1-nano": facts(1_047_576, 32_768, false, 0.1, 0.4),
  o3: facts(200_000, 100_000, true, 2, 8),
  "o3-mini": facts(200_000, 100_000, true, 1.1, 4.4),
  "o4-mini": facts(200_000, 100_000, true, 1.1, 4.4),
  "gpt-5": facts(400_000, 128_000, true, 1.25, 10),
  "gpt-5-mini": facts(400_000, 128_000, true, 0.25, 2),
  "gpt-5-nano": facts(400_000, 128_000, true, 0.05, 0.4),
};

export const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";

/**
 * A model of the platform's OpenAI-compatible endpoint. Priced from OpenAI's table, also when the endpoint
 * is a router that spells it "openai/gpt-4o-mini"; an id not in the table (a local server's) costs 0.
 */
export function openAiModel(id: string): CatalogModel {
  const known = OPENAI_MODELS_KNOWN[id.replace(/^openai\//, "")];
  return {
    id,
    provider: "openai",
    contextWindow: known?.contextWindow ?? 128_000,
    ...(known?.maxOutputTokens ? { maxOutputTokens: known.maxOutputTokens } : {}),
    reasoning: known?.reasoning ?? true,
    tools: true,
    coding: true,
    structuredOutput: known !== undefined,
    streaming: true,
    priceIn: known?.priceIn ?? 0,
    priceOut: known?.priceOut ?? 0,
  };
}

/**
 * Which ids the platform's OpenAI-compatible endpoint may be asked for: OPENAI_MODEL plus the comma list in
 * OPENAI_MODELS, or any id with "*" (development and tests, where the endpoint is a local server).
 * Unset means "*" for now, which is how it behaved before OPENAI_MODELS existed.
 */
export function openAiModelIds(env: ModelEnv): { anyId: boolean; ids: string[] } {
  const listed = (env.OPENAI_MODELS ?? "").split(",").map((id) => id.trim());
  const ids = [env.OPENAI_MODEL ?? DEFAULT_OPENAI_MODEL, ...listed.filter((id) => id && id !== "*")];
  return { anyId: listed.includes("*"), ids: [...new Set(ids)] };
}

/**
 * The platform models this deployment can call: the local model always, Workers AI's with the AI binding
 * (or as the default provider), the OpenAI-compatible endpoint's when OPENAI_BASE_URL is set.
 */
export function platformCatalog(env: ModelEnv): CatalogModel[] {
  const workersAi = env.AI !== undefined || env.DEFAULT_MODEL_PROVIDER === "workers-ai";
  return [
    ...DEFAULT_CATALOG.filter((m) => m.provider === "local" || workersAi),
    ...(env.OPENAI_BASE_URL ? openAiModelIds(env).ids.map(openAiModel) : []),
  ];
}

/**
 * The most tokens one reply of `model` may have, what a role's maxTokens is held to: the catalog's
 * published output cap for a platform model, else its context window (a tenant's models, ids the
 * catalog does not know, scripted models).
 */
export function outputTokenLimit(model: PinnedModel): number {
  if (model.source !== "platform") return model.contextWindow;
  const known =
    model.providerName === "openai"
      ? openAiModel(model.id)
      : DEFAULT_CATALOG.find((m) => m.provider === model.providerName && m.id === model.id);
  return known?.maxOutputTokens ?? model.contextWindow;
}

export function costUsd(
  model: Pick<CatalogModel, "priceIn" | "priceOut"> | undefined,
  tokensIn: number,
  tokensOut: number,
): number {
  if (!model) return 0;
  return (tokensIn * model.priceIn + tokensOut * model.priceOut) / 1_000_000;
}

/** One model the role form can pick: `ref` is what goes into hyperparameters.model. */
export interface CatalogEntry {
  ref: string;
  source: "tenant" | "platform";
  provider: string;
  id: string;
  contextWindow: number;
  priceIn: number;
  priceOut: number;
  capabilities: ProviderModel["capabilities"];
}

/** The tenant's models first (by provider name), then the platform's this deployment offers. */
export function modelCatalog(tenant: TenantModel[], env: ModelEnv): CatalogEntry[] {
  const own = tenant.map(({ providerName, model }) => ({
    ref: `${providerName}:${model.id}`,
    source: "tenant" as const,
    provider: providerName,
    id: model.id,
    contextWindow: model.contextWindow,
    priceIn: model.priceIn,
    priceOut: model.priceOut,
    capabilities: model.capabilities,
  }));
  const platform = platformCatalog(env).map((m) => ({
    ref: `${m.provider}:${m.id}`,
    source: "platform" as const,
    provider: m.provider,
    id: m.id,
    contextWindow: m.contextWindow,
    priceIn: m.priceIn,
    priceOut: m.priceOut,
    capabilities: {
      reasoning: m.reasoning,
      tools: m.tools,
      coding: m.coding,
      structuredOutput: m.structuredOutput,
      streaming: m.streaming,
    },
  }));
  return [...own, ...platform];
}
