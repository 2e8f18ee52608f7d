// The role (agent) definition as users write it, and its normalized stored form.
// Accepts the usage guide's shapes verbatim, including the top-level `needsTools` of its first example.
import { z } from "zod";
import { displayName, idSchema, oneOf, strictObject, uniqueBy } from "./common";
import { pageFields } from "./page";

export const ROLE_NAME_MAX = 100;
export const BASE_PROMPT_MAX_CHARS = 100_000;
export const CONTEXT_TOKENS_MAX = 10_000_000;
/** No model answers more tokens than this; each model's own cap is lower or equal (worker/models/catalog.ts). */
export const MAX_TOKENS_MAX = 1_000_000;
export const META_TOOL = "meta";
/** What agent code may do, one tool each: list/get/status, execute and run control, create/update/delete. */
export const META_SCOPES = ["read", "run", "write"] as const;
export type MetaScope = (typeof META_SCOPES)[number];
/** "meta:read", "meta:run", "meta:write": a role holding one of them may call only that part of the meta API. */
export const META_SCOPE_TOOLS = META_SCOPES.map((scope) => `${META_TOOL}:${scope}` as const);
export const metaToolOf = (scope: MetaScope) => `${META_TOOL}:${scope}` as const;

/** Whether a role's agent code runs at all: it holds `meta` or any `meta:<scope>`. */
export function isMetaRole(tools: readonly string[] | undefined): boolean {
  return tools?.some((tool) => tool === META_TOOL || tool.startsWith(`${META_TOOL}:`)) ?? false;
}

/** Whether the tools allow a meta function of `scope`: plain `meta` allows every scope. */
export function allowsMetaScope(tools: readonly string[], scope: MetaScope): boolean {
  return tools.includes(META_TOOL) || tools.includes(metaToolOf(scope));
}

export const roleName = displayName(ROLE_NAME_MAX);

const capabilitiesInput = strictObject({
  needsCoding: z.boolean().optional(),
  needsTools: z.boolean().optional(),
  needsReasoning: z.boolean().optional(),
});

const contextTokens = z
  .int("must be a whole number of tokens")
  .min(0, "must not be negative")
  .max(CONTEXT_TOKENS_MAX, `must be at most ${CONTEXT_TOKENS_MAX}`);

/** What a step input over the context limit does: fail before the call (the default) or get trimmed. */
export const CONTEXT_OVERFLOW_POLICIES = ["fail", "truncate"] as const;

const contextLimitsInput = strictObject({
  minContext: contextTokens.optional(),
  maxContext: contextTokens.min(1, "must be at least 1").optional(),
  onOverflow: oneOf(CONTEXT_OVERFLOW_POLICIES).optional(),
});

const hyperparametersInput = strictObject({
  temperature: z.number().min(0, "must be between 0 and 2").max(2, "must be between 0 and 2").optional(),
  // The model's own output cap is checked where the model is known (worker/models/resolve-role.ts).
  maxTokens: z
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(MAX_TOKENS_MAX, `must be at most ${MAX_TOKENS_MAX}, and at most what the role's model can answer`)
    .optional(),
  topP: z.number().gt(0, "must be in (0, 1]").max(1, "must be in (0, 1]").optional(),
  model: z.string().trim().min(1, "must not be empty").max(200).optional(),
});

const TOOL_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
/** A tool name, or one of the meta scopes (the only names with a ":"). */
const toolName = z
  .string()
  .refine((tool) => TOOL_NAME.test(tool) || (META_SCOPE_TOOLS as readonly string[]).includes(tool), {
    error: (issue) =>
      String(issue.input).includes(":")
        ? `${JSON.stringify(issue.input)} is not a tool: a name with ":" must be one of ${META_SCOPE_TOOLS.join(", ")}`
        : 'must be a lowercase tool name such as "meta" (a-z, 0-9, _ . -)',
  });

const roleFields = {
  name: roleName,
  description: z.string().max(2000, "must be at most 2000 characters").optional(),
  basePrompt: z
    .string()
    .min(1, "must not be empty")
    .max(BASE_PROMPT_MAX_CHARS, `must be at most ${BASE_PROMPT_MAX_CHARS} characters`),
  capabilities: capabilitiesInput.optional(),
  contextLimits: contextLimitsInput.optional(),
  hyperparameters: hyperparametersInput.optional(),
  tools: z
    .array(toolName)
    .max(32, "at most 32 tools")
    .superRefine((tools, ctx) => uniqueBy(tools, (t) => t, ctx, "tool"))
    .optional(),
  /** The guide's first example passes this at the top level; it is folded into capabilities. */
  needsTools: z.boolean().optional(),
};

export const roleInputSchema = strictObject(roleFields);
export type RoleInput = z.input<typeof roleInputSchema>;

export const roleUpdatesSchema = strictObject({
  ...roleFields,
  name: roleName.optional(),
  basePrompt: roleFields.basePrompt.optional(),
}).refine((updates) => Object.keys(updates).length > 0, "must change at least one field");
export type RoleUpdates = z.infer<typeof roleUpdatesSchema>;

/** The stored, fully defaulted role definition. */
export const roleDefinitionSchema = z.object({
  name: roleName,
  description: z.string(),
  basePrompt: z.string(),
  capabilities: z.object({ needsCoding: z.boolean(), needsTools: z.boolean(), needsReasoning: z.boolean() }),
  contextLimits: z.object({
    minContext: z.int(),
    maxContext: z.int(),
    onOverflow: z.enum(CONTEXT_OVERFLOW_POLICIES).optional(),
  }),
  hyperparameters: z.object({
    temperature: z.number(),
    maxTokens: z.int(),
    topP: z.number().optional(),
    model: z.string().optional(),
  }),
  tools: z.array(z.string()),
});
export type RoleDefinition = z.infer<typeof roleDefinitionSchema>;

export const DEFAULT_CONTEXT_LIMITS = { minContext: 4096, maxContext: 128_000 } as const;
export const DEFAULT_HYPERPARAMETERS = { temperature: 0.7, maxTokens: 4096 } as const;

type Issue = { path: (string | number)[]; message: string };

/**
 * Merges input over a base (defaults for create, the stored role for update) and checks the
 * cross-field rules. Returns the definition or the issues, each naming its field.
 */
export function normalizeRole(
  input: z.infer<typeof roleInputSchema> | RoleUpdates,
  base: RoleDefinition | undefined,
): { ok: true; role: RoleDefinition } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const capabilities = {
    needsCoding: false,
    needsTools: false,
    needsReasoning: false,
    ...base?.capabilities,
    ...input.capabilities,
  };
  if (input.needsTools !== undefined) {
    const explicit = input.capabilities?.needsTools;
    if (explicit !== undefined && explicit !== input.needsTools) {
      issues.push({
        path: ["needsTools"],
        message: "contradicts capabilities.needsTools; give one of them, or the same value in both",
      });
    }
    capabilities.needsTools = input.needsTools;
  }
  const contextLimits = { ...DEFAULT_CONTEXT_LIMITS, ...base?.contextLimits, ...input.contextLimits };
  if (contextLimits.minContext > contextLimits.maxContext) {
    issues.push({
      path: ["contextLimits", "minContext"],
      message: `must not exceed maxContext (${contextLimits.minContext} > ${contextLimits.maxContext})`,
    });
  }
  const hyperparameters = { ...DEFAULT_HYPERPARAMETERS, ...base?.hyperparameters, ...input.hyperparameters };
  const name = input.name ?? base?.name;
  const basePrompt = input.basePrompt ?? base?.basePrompt;
  if (name === undefined) issues.push({ path: ["name"], message: "is required" });
  if (basePrompt === undefined) issues.push({ path: ["basePrompt"], message: "is required" });
  if (issues.length > 0 || name === undefined || basePrompt === undefined) return { ok: false, issues };
  return {
    ok: true,
    role: {
      name,
      description: input.description ?? base?.description ?? "",
      basePrompt,
      capabilities,
      contextLimits,
      hyperparameters,
      tools: input.tools ?? base?.tools ?? [],
    },
  };
}

export const roleRefSchema = strictObject({ roleId: idSchema });
export const roleLookupSchema = strictObject({
  nameOrId: z.string().trim().min(1, "must not be empty").max(200),
});
const roleFilterFields = {
  search: z.string().trim().max(200).optional(),
  tool: toolName.optional(),
};
/** Agent code's list_roles: the filters only (it answers one page of up to maxPageSize, as an array). */
export const roleFilterSchema = strictObject(roleFilterFields).nullish();
export const roleListSchema = strictObject({ ...roleFilterFields, ...pageFields }).nullish();
