// Which model a role gets, decided once when an execution starts (and checked when the role is saved):
// "<provider>:<id>" names a tenant provider or a platform prefix; a bare id is looked up in the tenant's
// models, then the platform's; no model named lets capabilities and context limits pick the cheapest
// fitting one, tenant models first. Pure: the tenant's models and the env come in as arguments.
import type { PinnedModel, RoleSnapshot } from "../../durable-objects/engine/types";
import type { TenantModel } from "../db/providers";
import {
  type CatalogModel,
  DEFAULT_CATALOG,
  DEFAULT_OPENAI_MODEL,
  openAiModel,
  openAiModelIds,
  platformCatalog,
} from "./catalog";
import type { ModelEnv } from "./gateway";
import { SCRIPT_PREFIX } from "./scripted";

/** What resolution reads of a role (a stored RoleDefinition and a RoleSnapshot both have it). */
export type RoleModelNeeds = Pick<RoleSnapshot, "capabilities" | "contextLimits" | "hyperparameters">;

export type Resolution = { ok: true; model: PinnedModel } | { ok: false; message: string };

const PLATFORM_REF = /^(local|workers-ai|openai):(.+)$/;
/** What a tenant provider may be called (worker/schemas/provider.ts). */
const PROVIDER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** How many models an "unknown model" message lists before "and N more". */
const LISTED_MODELS_MAX = 25;

function defaultProvider(env: ModelEnv): CatalogModel["provider"] {
  const named = env.DEFAULT_MODEL_PROVIDER;
  return named === "workers-ai" || named === "openai" ? named : "local";
}

export function pinPlatform(entry: CatalogModel): PinnedModel {
  return {
    source: "platform",
    providerName: entry.provider,
    kind: entry.provider === "openai" ? "openai-compatible" : entry.provider,
    id: entry.id,
    contextWindow: entry.contextWindow,
    priceIn: entry.priceIn,
    priceOut: entry.priceOut,
    structuredOutput: entry.structuredOutput,
    streaming: entry.streaming,
  };
}

export function pinTenant(found: TenantModel): PinnedModel {
  const { model } = found;
  return {
    source: "tenant",
    providerId: found.providerId,
    providerName: found.providerName,
    kind: found.kind,
    id: model.id,
    contextWindow: model.contextWindow,
    priceIn: model.priceIn,
    priceOut: model.priceOut,
    structuredOutput: model.capabilities.structuredOutput,
    streaming: model.capabilities.streaming,
  };
}

/** Scripted test models: answered in this isolate, free, never refused at save time; a script may stream. */
function pinScript(id: string): PinnedModel {
  return {
    source: "platform",
    providerName: "script",
    kind: "script",
    id,
    contextWindow: DEFAULT_CATALOG[0]?.contextWindow ?? 1_000_000,
    priceIn: 0,
    priceOut: 0,
    structuredOutput: true,
    streaming: true,
  };
}

/** A model of a platform provider the role named by prefix; with `anyId`, ids outside the catalog too. */
function platformModel(provider: CatalogModel["provider"], id: string, env: ModelEnv, anyId: boolean) {
  const known = platformCatalog(env).find((m) => m.provider === provider && m.id === id);
  if (known) return known;
  if (provider === "openai" && (anyId || openAiModelIds(env).anyId)) return openAiModel(id);
  if (!anyId) return undefined;
  const listed = DEFAULT_CATALOG.find((m) => m.provider === provider && m.id === id);
  return listed ?? { ...(DEFAULT_CATALOG[0] as CatalogModel), id, provider, priceIn: 0, priceOut: 0 };
}

/** `"x" is not a model ...; the models are a:b, c:d (and 3 more)` */
function unknownModel(named: string, tenant: TenantModel[], env: ModelEnv, why?: string): Resolution {
  const refs = [
    ...tenant.map((t) => `${t.providerName}:${t.model.id}`),
    ...platformCatalog(env).map((m) => `${m.provider}:${m.id}`),
  ];
  const shown = refs.slice(0, LISTED_MODELS_MAX).join(", ");
  const more = refs.length > LISTED_MODELS_MAX ? ` (and ${refs.length - LISTED_MODELS_MAX} more)` : "";
  const reason = why ?? "is neither one of this tenant's provider models nor one of the platform's";
  return {
    ok: false,
    message: `${JSON.stringify(named)} ${reason}; the models are ${shown}${more} (provider.models lists them)`,
  };
}

function fits(role: RoleModelNeeds | undefined, window: number): boolean {
  return window >= (role?.contextLimits.minContext ?? 0);
}

function able(
  role: RoleModelNeeds | undefined,
  can: { reasoning: boolean; tools: boolean; coding: boolean },
) {
  const needs = role?.capabilities;
  return (
    (!needs?.needsReasoning || can.reasoning) &&
    (!needs?.needsTools || can.tools) &&
    (!needs?.needsCoding || can.coding)
  );
}

const cheapest = <T>(items: T[], price: (item: T) => number): T | undefined =>
  [...items].sort((a, b) => price(a) - price(b))[0];

/** No model named: the cheapest tenant model that fits, else the default provider's as before. */
function byNeeds(role: RoleModelNeeds | undefined, tenant: TenantModel[], env: ModelEnv): PinnedModel {
  const fitting = tenant.filter((t) => fits(role, t.model.contextWindow) && able(role, t.model.capabilities));
  const own = cheapest(fitting, (t) => t.model.priceIn + t.model.priceOut);
  if (own) return pinTenant(own);
  const provider = defaultProvider(env);
  const offered = [...DEFAULT_CATALOG, openAiModel(env.OPENAI_MODEL ?? DEFAULT_OPENAI_MODEL)].filter(
    (m) => m.provider === provider,
  );
  const ranked =
    [
      offered.filter((m) => fits(role, m.contextWindow) && able(role, m)),
      offered.filter((m) => fits(role, m.contextWindow)),
      offered,
    ].find((list) => list.length > 0) ?? [];
  const entry = cheapest(ranked, (m) => m.priceIn + m.priceOut);
  return pinPlatform(entry ?? (DEFAULT_CATALOG[0] as CatalogModel));
}

function byName(named: string, tenant: TenantModel[], env: ModelEnv, anyId: boolean): Resolution {
  if (named.startsWith(SCRIPT_PREFIX)) return { ok: true, model: pinScript(named) };
  const colon = named.indexOf(":");
  const prefix = colon > 0 ? named.slice(0, colon) : "";
  const ofProvider = tenant.filter((t) => t.providerName === prefix);
  if (ofProvider.length > 0) {
    const id = named.slice(colon + 1);
    const found = ofProvider.find((t) => t.model.id === id);
    if (found) return { ok: true, model: pinTenant(found) };
    const ids = ofProvider.map((t) => t.model.id).join(", ");
    return { ok: false, message: `provider "${prefix}" has no model "${id}"; its models are ${ids}` };
  }
  const platform = PLATFORM_REF.exec(named);
  if (platform?.[1] && platform[2]) {
    const entry = platformModel(platform[1] as CatalogModel["provider"], platform[2], env, anyId);
    return entry
      ? { ok: true, model: pinPlatform(entry) }
      : unknownModel(named, tenant, env, "is not offered by this platform");
  }
  const own = tenant.find((t) => t.model.id === named);
  if (own) return { ok: true, model: pinTenant(own) };
  const known =
    platformCatalog(env).find((m) => m.id === named) ?? DEFAULT_CATALOG.find((m) => anyId && m.id === named);
  if (known) return { ok: true, model: pinPlatform(known) };
  // Reads as "<provider>:<id>" for a provider the tenant does not have (deleted, renamed, mistyped):
  // refused even where any platform id goes, or the role would quietly run on the default provider.
  if (PROVIDER_NAME.test(prefix)) {
    const names = [...new Set(tenant.map((t) => t.providerName))].join(", ") || "none yet";
    return unknownModel(named, tenant, env, `names no provider of this tenant (its providers: ${names})`);
  }
  const fallback = anyId ? platformModel(defaultProvider(env), named, env, true) : undefined;
  return fallback ? { ok: true, model: pinPlatform(fallback) } : unknownModel(named, tenant, env);
}

/**
 * The model for a role, or why there is none. `anyId` accepts platform ids outside the catalog (how
 * roles saved before the catalog was enforced keep running); OPENAI_MODELS="*" does the same for openai.
 */
export function resolveModel(
  role: RoleModelNeeds | undefined,
  tenant: TenantModel[],
  env: ModelEnv,
  anyId = openAiModelIds(env).anyId,
): Resolution {
  const named = role?.hyperparameters.model;
  if (named === undefined) return { ok: true, model: byNeeds(role, tenant, env) };
  return byName(named, tenant, env, anyId);
}

/** Whether resolving this name can need the tenant's models (so a start can skip loading them). */
export function needsTenantModels(role: RoleModelNeeds): boolean {
  const named = role.hyperparameters.model;
  return named === undefined || !(named.startsWith(SCRIPT_PREFIX) || PLATFORM_REF.test(named));
}

/** The default model of each deployment's settings, for steps without a role (asked once per step). */
const defaultModels = new WeakMap<ModelEnv, PinnedModel>();

/** The model of a plan's role: pinned at start, or resolved as before pinning for plans older than it. */
export function modelOf(role: RoleSnapshot | undefined, env: ModelEnv): PinnedModel {
  if (role?.model) return role.model;
  const known = role === undefined ? defaultModels.get(env) : undefined;
  if (known) return known;
  const resolved = resolveModel(role, [], env, true);
  const model = resolved.ok ? resolved.model : pinPlatform(DEFAULT_CATALOG[0] as CatalogModel);
  if (role === undefined) defaultModels.set(env, model);
  return model;
}
