// Calls the model a step's role pinned at start (worker/models/resolve.ts): the one place the engine's
// `call_model` command becomes a network (or local) request. The step input is held to the context limit
// first; the reply is priced with the pinned model's prices. Returns the engine's AttemptResult, never
// throws for an expected failure.
import type { AttemptResult, JsonValue, PinnedModel, RoleSnapshot } from "../../durable-objects/engine/types";
import { type ProviderAccess, providerAccess } from "../providers/provider-access";
import { isMetaRole } from "../schemas/role";
import { costUsd } from "./catalog";
import { localProvider, localReply } from "./local";
import { openAiProvider } from "./openai";
import { modelOf } from "./resolve";
import { fitContext } from "./resolve-context";
import { runScript } from "./scripted";
import type { ChatMessage, ModelProvider, ModelReply, ModelRequest } from "./types";
import { type AiBinding, workersAiProvider } from "./workers-ai";

export interface ModelEnv {
  DEFAULT_MODEL_PROVIDER?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  OPENAI_MODEL?: string;
  /** More platform OpenAI-compatible model ids (comma-separated); "*" accepts any id (development only). */
  OPENAI_MODELS?: string;
  AI?: AiBinding;
  /** Encrypts tenants' provider keys at rest (a secret in production; a fixed value in local dev). */
  PROVIDER_KEYS_SECRET?: string;
  /** "true" lets provider base URLs be plain http (local development and tests only). */
  ALLOW_INSECURE_PROVIDER_URLS?: string;
}

/** A call may reach a tenant's provider, whose endpoint and key are read from D1. */
export type GatewayEnv = ModelEnv & { DB: D1Database };

export interface CallOptions {
  tenantId: string;
  /** Streaming: called with the whole reply text so far, each time it grows. */
  onText?: (textSoFar: string) => void;
  /** The step's outputSchema (a JSON Schema object): sent as response_format json_schema where supported. */
  outputSchema?: Record<string, unknown>;
}

const DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant taking one step of a multi-step workflow.";

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

function withCost(reply: ModelReply, model: PinnedModel): AttemptResult {
  if (!reply.ok) return reply;
  const cost = costUsd(model, reply.usage.tokensIn, reply.usage.tokensOut);
  return { ok: true, text: reply.text, usage: { ...reply.usage, model: model.id, costUsd: cost } };
}

/** The provider behind a tenant's endpoint: OpenAI-compatible REST, or the Workers AI binding. */
export function tenantProvider(access: ProviderAccess, env: ModelEnv): ModelProvider | string {
  if (access.baseUrl !== null) return openAiProvider(access.baseUrl, access.apiKey);
  if (access.kind === "workers-ai")
    return env.AI ? workersAiProvider(env.AI) : "the Workers AI binding (AI) is not configured";
  return "the provider has no baseUrl";
}

function platformProvider(model: PinnedModel, env: ModelEnv): ModelProvider | string {
  switch (model.kind) {
    case "local":
      return localProvider;
    case "script":
      return { name: "script", complete: runScript };
    case "workers-ai":
      return env.AI ? workersAiProvider(env.AI) : "the Workers AI binding (AI) is not configured";
    case "openai-compatible":
      return env.OPENAI_BASE_URL
        ? openAiProvider(env.OPENAI_BASE_URL, env.OPENAI_API_KEY)
        : "OPENAI_BASE_URL is not set";
    default:
      return model.kind satisfies never;
  }
}

async function tenantProviderFor(
  model: PinnedModel,
  env: GatewayEnv,
  tenantId: string,
): Promise<ModelProvider | string> {
  const found = await providerAccess(env, tenantId, model);
  return found.ok ? tenantProvider(found.access, env) : found.message;
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
  if (isMetaRole(role?.tools)) return undefined;
  const model = modelOf(role, env);
  if (model.kind !== "local") return undefined;
  const request = buildRequest(role, model.id, input, json);
  const fit = fitContext(request.messages, role, model, request.maxTokens);
  if (!fit.ok) return fit;
  return withCost(localReply({ ...request, messages: fit.messages }), model);
}

export async function callModel(
  env: GatewayEnv,
  role: RoleSnapshot | undefined,
  input: JsonValue,
  json: boolean,
  signal: AbortSignal,
  options: CallOptions,
): Promise<AttemptResult> {
  const { messages } = buildRequest(role, "", input, json);
  return callModelWithMessages(env, role, messages, json, signal, options);
}

/** Streaming where the model streams; the step's outputSchema with whether the model takes json_schema. */
function streamingFields(
  model: PinnedModel,
  options: CallOptions,
): Pick<ModelRequest, "onText" | "responseSchema" | "structuredOutput"> {
  return {
    ...(options.onText && model.streaming ? { onText: options.onText } : {}),
    ...(options.outputSchema
      ? { responseSchema: options.outputSchema, structuredOutput: model.structuredOutput }
      : {}),
  };
}

/** A call with a whole conversation (a meta role's turns); `messages` starts with the system message. */
export async function callModelWithMessages(
  env: GatewayEnv,
  role: RoleSnapshot | undefined,
  messages: ChatMessage[],
  json: boolean,
  signal: AbortSignal,
  options: CallOptions,
): Promise<AttemptResult> {
  const model = modelOf(role, env);
  const base = buildRequest(role, model.id, "", json);
  const fit = fitContext(messages, role, model, base.maxTokens);
  if (!fit.ok) return fit;
  // A platform model is called without an await first: the request is on its way when this returns its
  // promise (the crash tests' "during_call" point relies on it, as a real crash mid-call would).
  const provider =
    model.source === "platform"
      ? platformProvider(model, env)
      : await tenantProviderFor(model, env, options.tenantId);
  if (typeof provider === "string") {
    const message = `model "${model.providerName}:${model.id}": ${provider}`;
    return { ok: false, error: { kind: "config", message, retryable: false } };
  }
  const request: ModelRequest = {
    ...base,
    messages: fit.messages,
    ...streamingFields(model, options),
  };
  return withCost(await provider.complete(request, signal), model);
}
