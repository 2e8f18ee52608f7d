// Converts between a stored provider and the provider form's text fields, and back into the API's input
// shapes. The API key is write-only: a stored provider's draft starts with it empty ("keep the key").
import type { RouterInputs, RouterOutputs } from "./trpc";

export type Provider = RouterOutputs["provider"]["list"]["items"][number];
type ProviderInput = RouterInputs["provider"]["create"];
type ProviderUpdates = RouterInputs["provider"]["update"]["updates"];
type ModelInput = ProviderInput["models"][number];
export type ProviderKind = ProviderInput["kind"];

export const CAPABILITIES = [
  ["reasoning", "Reasoning"],
  ["tools", "Tools"],
  ["coding", "Coding"],
  ["structuredOutput", "Structured output"],
  ["streaming", "Streaming"],
] as const;
export type Capability = (typeof CAPABILITIES)[number][0];

export interface ModelDraft {
  /** Stable React key for the row; not sent. */
  rowKey: number;
  id: string;
  contextWindow: string;
  priceIn: string;
  priceOut: string;
  capabilities: Record<Capability, boolean>;
}

export interface ProviderDraft {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  apiKey: string;
  models: ModelDraft[];
}

let nextRowKey = 1;

export function emptyModel(): ModelDraft {
  return {
    rowKey: nextRowKey++,
    id: "",
    contextWindow: "128000",
    priceIn: "0",
    priceOut: "0",
    capabilities: { reasoning: false, tools: false, coding: false, structuredOutput: false, streaming: true },
  };
}

export function emptyProvider(): ProviderDraft {
  return { name: "", kind: "openai-compatible", baseUrl: "", apiKey: "", models: [emptyModel()] };
}

export function draftOf(provider: Provider): ProviderDraft {
  return {
    name: provider.name,
    kind: provider.kind,
    baseUrl: provider.baseUrl ?? "",
    apiKey: "",
    models: provider.models.map((model) => ({
      rowKey: nextRowKey++,
      id: model.id,
      contextWindow: String(model.contextWindow),
      priceIn: String(model.priceIn),
      priceOut: String(model.priceOut),
      capabilities: {
        reasoning: model.capabilities.reasoning ?? false,
        tools: model.capabilities.tools ?? false,
        coding: model.capabilities.coding ?? false,
        structuredOutput: model.capabilities.structuredOutput ?? false,
        streaming: model.capabilities.streaming ?? false,
      },
    })),
  };
}

/** A number field goes to the server as typed (an empty one as NaN), so the server names bad values. */
function numberOf(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? Number.NaN : Number(trimmed);
}

function modelInputOf(model: ModelDraft): ModelInput {
  return {
    id: model.id.trim(),
    contextWindow: numberOf(model.contextWindow),
    priceIn: numberOf(model.priceIn),
    priceOut: numberOf(model.priceOut),
    capabilities: { ...model.capabilities },
  };
}

export function createInputOf(draft: ProviderDraft): ProviderInput {
  const input: ProviderInput = {
    name: draft.name.trim(),
    kind: draft.kind,
    models: draft.models.map(modelInputOf),
  };
  if (draft.baseUrl.trim()) input.baseUrl = draft.baseUrl.trim();
  if (draft.apiKey.trim()) input.apiKey = draft.apiKey.trim();
  return input;
}

/** Every field but the key is sent as it stands (an emptied base URL removes it); a blank key keeps the stored one. */
export function updatesOf(draft: ProviderDraft): ProviderUpdates {
  const updates: ProviderUpdates = {
    name: draft.name.trim(),
    kind: draft.kind,
    baseUrl: draft.baseUrl.trim() || null,
    models: draft.models.map(modelInputOf),
  };
  if (draft.apiKey.trim()) updates.apiKey = draft.apiKey.trim();
  return updates;
}
