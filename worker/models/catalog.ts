// The model catalog: what each model can do and what it costs. A role's capabilities and context limits
// pick the cheapest model that fits, unless hyperparameters.model names one.
export type ProviderName = "local" | "workers-ai" | "openai";

export interface CatalogModel {
  id: string;
  provider: ProviderName;
  contextWindow: number;
  reasoning: boolean;
  tools: boolean;
  coding: boolean;
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
    priceIn: 0.35,
    priceOut: 0.75,
  },
];

export function costUsd(model: CatalogModel | undefined, tokensIn: number, tokensOut: number): number {
  if (!model) return 0;
  return (tokensIn * model.priceIn + tokensOut * model.priceOut) / 1_000_000;
}
