// A tenant's own model providers (an OpenAI-compatible endpoint or Workers AI) as users write them, and
// the shape of each model they serve. Base URLs and keys are checked further by the provider service,
// which knows the environment (https only in production); this file holds only what needs no env.
import { z } from "zod";
import { idSchema, oneOf, strictObject, uniqueBy } from "./common";

export const PROVIDER_KINDS = ["openai-compatible", "workers-ai"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** The platform's own providers: "<prefix>:<model>" always means these, so no tenant provider takes the name. */
export const PLATFORM_PREFIXES = ["local", "workers-ai", "openai", "script"] as const;

export const PROVIDER_MODELS_MAX = 200;
export const CONTEXT_WINDOW_MAX = 10_000_000;
/** US dollars per million tokens; the dearest published models are far below this. */
export const PRICE_PER_MILLION_MAX = 10_000;

/** Lowercase so "<provider>:<model>" reads one way; no ":" so the reference splits at the first one. */
export const providerNameSchema = z
  .string({ error: (issue) => (issue.input === undefined ? "is required: a provider name" : undefined) })
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (it is the prefix in "<provider>:<model>")',
  )
  .refine((name) => !(PLATFORM_PREFIXES as readonly string[]).includes(name), {
    message: `is one of the platform's own providers (${PLATFORM_PREFIXES.join(", ")}); choose another name`,
  });

const capabilitiesSchema = strictObject({
  reasoning: z.boolean().optional(),
  tools: z.boolean().optional(),
  coding: z.boolean().optional(),
  /** Accepts response_format json_schema. */
  structuredOutput: z.boolean().optional(),
  /** Answers `stream: true` with server-sent events (assumed unless set to false). */
  streaming: z.boolean().optional(),
});

const price = z
  .number({
    error: (issue) => (issue.input === undefined ? "is required: US dollars per million tokens" : undefined),
  })
  .min(0, "must not be negative")
  .max(PRICE_PER_MILLION_MAX, `must be at most ${PRICE_PER_MILLION_MAX} (US dollars per million tokens)`);

export const providerModelInputSchema = strictObject(
  {
    id: z
      .string({ error: (issue) => (issue.input === undefined ? "is required: the model's id" : undefined) })
      .trim()
      .min(1, "must not be empty")
      .max(200, "must be at most 200 characters")
      .regex(/^\S+$/, "must not contain spaces or control characters"),
    contextWindow: z
      .int({
        error: (issue) => (issue.input === undefined ? "is required: tokens the model reads" : undefined),
      })
      .min(1, "must be at least 1 token")
      .max(CONTEXT_WINDOW_MAX, `must be at most ${CONTEXT_WINDOW_MAX} tokens`),
    priceIn: price,
    priceOut: price,
    capabilities: capabilitiesSchema.optional(),
  },
  "a model: { id, contextWindow, priceIn, priceOut, capabilities }",
);

const modelsSchema = z
  .array(providerModelInputSchema, {
    error: (issue) => (issue.input === undefined ? "is required" : undefined),
  })
  .min(1, "must list at least one model the provider serves")
  .max(PROVIDER_MODELS_MAX, `must list at most ${PROVIDER_MODELS_MAX} models`)
  .superRefine((models, ctx) => uniqueBy(models, (m) => m.id, ctx, "model id", "id"));

const baseUrlSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(2000, "must be at most 2000 characters");

const apiKeySchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(4000, "must be at most 4000 characters")
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces (check that it was copied whole)");

export const providerCreateSchema = strictObject({
  name: providerNameSchema,
  kind: oneOf(PROVIDER_KINDS),
  baseUrl: baseUrlSchema.optional(),
  apiKey: apiKeySchema.optional(),
  models: modelsSchema,
});
export type ProviderCreateInput = z.infer<typeof providerCreateSchema>;

export const providerUpdatesSchema = strictObject({
  name: providerNameSchema.optional(),
  kind: oneOf(PROVIDER_KINDS).optional(),
  /** null removes it (a Workers AI provider then uses the platform's binding). */
  baseUrl: baseUrlSchema.nullable().optional(),
  /** null removes the stored key; absent keeps it. */
  apiKey: apiKeySchema.nullable().optional(),
  models: modelsSchema.optional(),
}).refine((updates) => Object.keys(updates).length > 0, "must change at least one field");
export type ProviderUpdates = z.infer<typeof providerUpdatesSchema>;

export const providerUpdateSchema = strictObject({ providerId: idSchema, updates: providerUpdatesSchema });
export const providerRefSchema = strictObject({ providerId: idSchema });
export const providerTestSchema = strictObject({
  providerId: idSchema,
  /** One of the provider's model ids; its first model when absent. */
  model: z.string().trim().min(1, "must not be empty").max(200).optional(),
});

/** A model as stored: every capability spelled out. PERSISTED CONTRACT v1 (providers.models). */
export interface ProviderModel {
  id: string;
  contextWindow: number;
  priceIn: number;
  priceOut: number;
  capabilities: {
    reasoning: boolean;
    tools: boolean;
    coding: boolean;
    structuredOutput: boolean;
    streaming: boolean;
  };
}

export function normalizeModel(input: z.infer<typeof providerModelInputSchema>): ProviderModel {
  const given = input.capabilities ?? {};
  return {
    id: input.id,
    contextWindow: input.contextWindow,
    priceIn: input.priceIn,
    priceOut: input.priceOut,
    capabilities: {
      reasoning: given.reasoning ?? false,
      tools: given.tools ?? false,
      coding: given.coding ?? false,
      structuredOutput: given.structuredOutput ?? false,
      streaming: given.streaming ?? true,
    },
  };
}
