// Chooses the model for a step and calls its provider: the one place the engine's `call_model`
// command becomes a network (or local) request. Returns the engine's AttemptResult, never throws for
// an expected failure.
import type { AttemptResult, JsonValue, RoleSnapshot } from "../../durable-objects/engine/types";
import { type CatalogModel, costUsd, DEFAULT_CATALOG, LOCAL_MODEL, type ProviderName } from "./catalog";
import { localProvider, localReply } from "./local";
import { openAiProvider } from "./openai";
import { runScript, SCRIPT_PREFIX } from "./scripted";
import type { ChatMessage, ModelProvider, ModelReply, ModelRequest } from "./types";
import { type AiBinding, workersAiProvider } from "./workers-ai";

export interface ModelEnv {
  DEFAULT_MODEL_PROVIDER?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  OPENAI_MODEL?: string;
  AI?: AiBinding;
}

const DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant taking one step of a multi-step workflow.";

function defaultProvider(env: ModelEnv): ProviderName {
  const named = env.DEFAULT_MODEL_PROVIDER;
  return named === "workers-ai" || named === "openai" ? named : "local";
}

function catalogFor(env: ModelEnv): CatalogModel[] {
  const openAiModel = env.OPENAI_MODEL ?? "gpt-4o-mini";
  return [
    ...DEFAULT_CATALOG,
    {
      id: openAiModel,
      provider: "openai",
      contextWindow: 128_000,
      reasoning: true,
      tools: true,
      coding: true,
      priceIn: 0,
      priceOut: 0,
    },
  ];
}

export interface ModelChoice {
  provider: ProviderName | "script";
  model: string;
  entry?: CatalogModel;
}

/**
 * hyperparameters.model wins ("openai:gpt-4o-mini" picks the provider too; a bare id is looked up in the
 * catalog, else sent to the default provider); otherwise the cheapest catalog model of the default
 * provider that fits the role's context limits and capabilities.
 */
export function chooseModel(role: RoleSnapshot | undefined, env: ModelEnv): ModelChoice {
  const catalog = catalogFor(env);
  const named = role?.hyperparameters.model;
  if (named?.startsWith(SCRIPT_PREFIX)) return { provider: "script", model: named };
  const provider = defaultProvider(env);
  const prefixed = named === undefined ? undefined : /^(local|workers-ai|openai):(.+)$/.exec(named);
  if (prefixed?.[1] && prefixed[2]) {
    const id = prefixed[2];
    const entry = catalog.find((m) => m.id === id && m.provider === prefixed[1]);
    return { provider: prefixed[1] as ProviderName, model: id, ...(entry ? { entry } : {}) };
  }
  if (named) {
    const entry = catalog.find((m) => m.id === named);
    return entry ? { provider: entry.provider, model: named, entry } : { provider, model: named };
  }
  const own = catalog.filter((m) => m.provider === provider);
  const needs = role?.capabilities;
  const fits = (m: CatalogModel) => m.contextWindow >= (role?.contextLimits.minContext ?? 0);
  const able = (m: CatalogModel) =>
    (!needs?.needsReasoning || m.reasoning) &&
    (!needs?.needsTools || m.tools) &&
    (!needs?.needsCoding || m.coding);
  const price = (m: CatalogModel) => m.priceIn + m.priceOut;
  const ranked =
    [own.filter((m) => fits(m) && able(m)), own.filter(fits), own].find((list) => list.length > 0) ?? [];
  const entry = [...ranked].sort((a, b) => price(a) - price(b))[0];
  return entry ? { provider, model: entry.id, entry } : { provider: "local", model: LOCAL_MODEL };
}

function providerFor(choice: ModelChoice, env: ModelEnv): ModelProvider | string {
  switch (choice.provider) {
    case "local":
      return localProvider;
    case "script":
      return { name: "script", complete: runScript };
    case "workers-ai":
      return env.AI ? workersAiProvider(env.AI) : "the Workers AI binding (AI) is not configured";
    case "openai":
      return env.OPENAI_BASE_URL
        ? openAiProvider(env.OPENAI_BASE_URL, env.OPENAI_API_KEY)
        : "OPENAI_BASE_URL is not set";
    default:
      return choice.provider satisfies never;
  }
}

export function buildRequest(
  role: RoleSnapshot | undefined,
  model: string,
  input: JsonValue,
  json: boolean,
): ModelRequest {
  const system =
    (role?.basePrompt ?? DEFAULT_SYSTEM_PROMPT) +
    (json ? "\n\nReply with a single JSON value and nothing else." : "");
  const user = typeof input === "string" ? input : JSON.stringify(input, null, 2);
  return {
    model,
    messages: [
      { role: "system", content: system },
      { role: "user", content: user },
    ],
    temperature: role?.hyperparameters.temperature ?? 0.7,
    maxTokens: role?.hyperparameters.maxTokens ?? 4096,
    ...(role?.hyperparameters.topP !== undefined ? { topP: role.hyperparameters.topP } : {}),
    json,
  };
}

function withCost(reply: ModelReply, choice: ModelChoice): AttemptResult {
  if (!reply.ok) return reply;
  const cost = costUsd(choice.entry, reply.usage.tokensIn, reply.usage.tokensOut);
  return { ok: true, text: reply.text, usage: { ...reply.usage, model: choice.model, costUsd: cost } };
}

/**
 * The reply of a model that answers at once without leaving the isolate (the built-in local model),
 * or undefined when the call must go out. The engine runs such calls inline, so a chain of them costs
 * no alarm and no storage round trip per step. Roles with the `meta` tool always go the long way.
 */
export function instantReply(
  env: ModelEnv,
  role: RoleSnapshot | undefined,
  input: JsonValue,
  json: boolean,
): AttemptResult | undefined {
  if (role?.tools.includes("meta")) return undefined;
  const choice = chooseModel(role, env);
  if (choice.provider !== "local") return undefined;
  return withCost(localReply(buildRequest(role, choice.model, input, json)), choice);
}

export async function callModel(
  env: ModelEnv,
  role: RoleSnapshot | undefined,
  input: JsonValue,
  json: boolean,
  signal: AbortSignal,
): Promise<AttemptResult> {
  return callModelWithMessages(env, role, buildRequest(role, "", input, json).messages, json, signal);
}

/** A call with a whole conversation (a meta role's turns); `messages` starts with the system message. */
export async function callModelWithMessages(
  env: ModelEnv,
  role: RoleSnapshot | undefined,
  messages: ChatMessage[],
  json: boolean,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const choice = chooseModel(role, env);
  const provider = providerFor(choice, env);
  if (typeof provider === "string") {
    return {
      ok: false,
      error: { kind: "config", message: `model "${choice.model}": ${provider}`, retryable: false },
    };
  }
  const request = { ...buildRequest(role, choice.model, "", json), messages };
  return withCost(await provider.complete(request, signal), choice);
}
