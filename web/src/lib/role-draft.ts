// Converts between a stored role and the form's text fields, and back into the API's input shape.
import type { RoleDraft } from "../components/role-form";
import type { Role, RouterInputs } from "./trpc";

/** worker/schemas/role.ts's META_TOOL and META_SCOPES; restated so the main bundle does not pull in zod. */
const META_TOOL = "meta";
const META_SCOPES = ["read", "run", "write"] as const;
const isMetaTool = (tool: string) => tool === META_TOOL || tool.startsWith(`${META_TOOL}:`);

type RoleInput = RouterInputs["role"]["create"];

export function draftOf(role: Role): RoleDraft {
  return {
    name: role.name,
    description: role.description,
    basePrompt: role.basePrompt,
    needsCoding: role.capabilities.needsCoding,
    needsTools: role.capabilities.needsTools,
    needsReasoning: role.capabilities.needsReasoning,
    minContext: String(role.contextLimits.minContext),
    maxContext: String(role.contextLimits.maxContext),
    temperature: String(role.hyperparameters.temperature),
    maxTokens: String(role.hyperparameters.maxTokens),
    topP: role.hyperparameters.topP === undefined ? "" : String(role.hyperparameters.topP),
    model: role.hyperparameters.model ?? "",
    meta: role.tools.includes(META_TOOL),
    metaScopes: {
      read: role.tools.includes(`${META_TOOL}:read`),
      run: role.tools.includes(`${META_TOOL}:run`),
      write: role.tools.includes(`${META_TOOL}:write`),
    },
    otherTools: role.tools.filter((tool) => !isMetaTool(tool)).join(", "),
  };
}

/** A number field: empty stays undefined; anything else goes to the server as typed, which names bad values. */
function numberOf(text: string): number | undefined {
  const trimmed = text.trim();
  return trimmed === "" ? undefined : Number(trimmed);
}

/** `meta` when granted whole, else the scopes ticked, in a fixed order. */
function metaToolsOf(draft: RoleDraft): string[] {
  if (draft.meta) return [META_TOOL];
  return META_SCOPES.filter((scope) => draft.metaScopes[scope]).map((scope) => `${META_TOOL}:${scope}`);
}

export function inputOf(draft: RoleDraft): RoleInput {
  const tools = draft.otherTools
    .split(",")
    .map((tool) => tool.trim())
    .filter(Boolean);
  const hyperparameters: NonNullable<RoleInput["hyperparameters"]> = {};
  const temperature = numberOf(draft.temperature);
  const maxTokens = numberOf(draft.maxTokens);
  const topP = numberOf(draft.topP);
  if (temperature !== undefined) hyperparameters.temperature = temperature;
  if (maxTokens !== undefined) hyperparameters.maxTokens = maxTokens;
  if (topP !== undefined) hyperparameters.topP = topP;
  if (draft.model.trim()) hyperparameters.model = draft.model.trim();
  const contextLimits: NonNullable<RoleInput["contextLimits"]> = {};
  const minContext = numberOf(draft.minContext);
  const maxContext = numberOf(draft.maxContext);
  if (minContext !== undefined) contextLimits.minContext = minContext;
  if (maxContext !== undefined) contextLimits.maxContext = maxContext;
  return {
    name: draft.name,
    description: draft.description,
    basePrompt: draft.basePrompt,
    capabilities: {
      needsCoding: draft.needsCoding,
      needsTools: draft.needsTools,
      needsReasoning: draft.needsReasoning,
    },
    contextLimits,
    hyperparameters,
    tools: [...metaToolsOf(draft), ...tools.filter((tool) => !isMetaTool(tool))],
  };
}
