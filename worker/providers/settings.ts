// The rules over a provider's fields together, for create and update alike: what a kind needs, where its
// key may be sent, and that the platform can encrypt a key before one is accepted. Throws the domain
// error naming the field (nothing has been written when it does).
import { invalid, TroupeError } from "../errors";
import type { FieldIssue } from "../schemas/common";
import { formatPath } from "../schemas/common";
import type { ProviderKind } from "../schemas/provider";
import { checkBaseUrl } from "./base-url";
import { secretProblem } from "./key-crypto";

export interface ProviderEnv {
  PROVIDER_KEYS_SECRET?: string;
  ALLOW_INSECURE_PROVIDER_URLS?: string;
}

export type KeyChange = { change: "keep" } | { change: "set"; apiKey: string } | { change: "remove" };

/** A provider's fields after a create or an update, before they are written. */
export interface ProviderSettings {
  kind: ProviderKind;
  baseUrl: string | null;
  key: KeyChange;
}

/** The stored state an update starts from. */
export interface CurrentSettings {
  kind: ProviderKind;
  baseUrl: string | null;
  hasKey: boolean;
}

function keyIssues(next: ProviderSettings, current: CurrentSettings | undefined): FieldIssue[] {
  const keyAfter = next.key.change === "set" || (next.key.change === "keep" && current?.hasKey === true);
  if (keyAfter && next.baseUrl === null) {
    const fix = next.key.change === "keep" ? "give apiKey: null to remove the stored key" : "leave it out";
    return [
      {
        path: "apiKey",
        message: `is sent only to a baseUrl, and this provider has none (a workers-ai provider without baseUrl calls the platform's Workers AI binding); give baseUrl, or ${fix}`,
      },
    ];
  }
  const movesKey = current?.hasKey && next.key.change === "keep" && next.baseUrl !== current.baseUrl;
  if (movesKey) {
    return [
      {
        path: "apiKey",
        message:
          "is required when baseUrl changes: the stored key is never sent to a new host; give the key again, or null to remove it",
      },
    ];
  }
  return [];
}

/**
 * Checks the provider as it will be and returns it with its base URL normalized. `at` prefixes the paths
 * (["updates"] for an update).
 */
export function checkSettings(
  next: ProviderSettings,
  current: CurrentSettings | undefined,
  env: ProviderEnv,
  at: string[] = [],
): ProviderSettings {
  const issues: FieldIssue[] = [];
  let baseUrl = next.baseUrl;
  if (baseUrl !== null) {
    const checked = checkBaseUrl(baseUrl, env.ALLOW_INSECURE_PROVIDER_URLS === "true");
    if (checked.ok) baseUrl = checked.url;
    else issues.push({ path: "baseUrl", message: checked.message });
  } else if (next.kind === "openai-compatible") {
    issues.push({
      path: "baseUrl",
      message:
        'is required for kind "openai-compatible": the endpoint\'s base URL, such as https://openrouter.ai/api/v1',
    });
  }
  issues.push(...keyIssues({ ...next, baseUrl }, current));
  if (issues.length > 0)
    throw invalid(issues.map((i) => ({ path: formatPath([...at, i.path]), message: i.message })));
  const problem = next.key.change === "set" ? secretProblem(env.PROVIDER_KEYS_SECRET) : undefined;
  if (problem) {
    const message = `${problem}, so provider keys cannot be stored encrypted; the operator sets it with \`wrangler secret put PROVIDER_KEYS_SECRET\``;
    throw new TroupeError("PRECONDITION_FAILED", message, [{ path: formatPath([...at, "apiKey"]), message }]);
  }
  return { ...next, baseUrl };
}
