// Ready-made tenants and definitions for tests that need more than a bare sign-up: a tenant with an API-key
// client beside its session, minimal valid role/orchestration inputs, and a snapshot of everything a tenant
// owns (as stored in D1 and as its owner sees it) so a test can prove that a call changed nothing.

import { makeClient, newTenant, type TestClient } from "./client";
import { rowsOf } from "./db";

/** A signed-up tenant with its session client and a second client authenticating with an API key. */
export async function tenantWithApiKey(label = "tenant") {
  const account = await newTenant(label);
  const apiKey = await account.trpc.apiKey.create.mutate({ name: `${label} automation` });
  return { ...account, apiKey, keyClient: makeClient({ apiKey: apiKey.key }) };
}
export type TenantWithApiKey = Awaited<ReturnType<typeof tenantWithApiKey>>;

export function roleInput(name: string) {
  return { name, basePrompt: `You are ${name}.`, tools: ["meta"] };
}

export function orchestrationInput(name: string, roleName: string) {
  return { name, tags: ["tenancy"], steps: [{ name: "Only step", roleName }] };
}

/** Adds fields a schema does not declare, without the compiler's excess-property check getting in the way. */
export function withExtraFields<T extends object>(input: T, extra: Record<string, unknown>): T {
  return { ...input, ...extra };
}

/** `last_used_at` is refreshed in the background after any key use, so it is left out of comparisons. */
function withoutLastUsed<T extends object>(rows: T[]): Omit<T, "lastUsedAt" | "last_used_at">[] {
  return rows.map((row) => {
    const {
      lastUsedAt: _a,
      last_used_at: _b,
      ...rest
    } = row as T & { lastUsedAt?: unknown; last_used_at?: unknown };
    return rest;
  });
}

/** Every row a tenant owns, read straight from D1, ordered so two snapshots compare with `toEqual`. */
export async function storedRowsOf(tenantId: string) {
  const ordered = (rows: Record<string, unknown>[]) =>
    rows.toSorted((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const [roles, orchestrations, orchestrationVersions, apiKeys, executions] = await Promise.all([
    rowsOf("roles", "tenant_id = ?", tenantId),
    rowsOf("orchestrations", "tenant_id = ?", tenantId),
    rowsOf("orchestration_versions", "tenant_id = ?", tenantId),
    rowsOf("api_keys", "tenant_id = ?", tenantId),
    rowsOf("executions", "tenant_id = ?", tenantId),
  ]);
  return {
    roles: ordered(roles),
    orchestrations: ordered(orchestrations),
    orchestrationVersions: ordered(orchestrationVersions),
    apiKeys: ordered(withoutLastUsed(apiKeys)),
    executions: ordered(executions),
  };
}

/** What a tenant's own signed-in user sees of its roles, orchestrations (with every version) and API keys. */
export async function ownerViewOf(session: TestClient) {
  const [roles, orchestrations, apiKeys] = await Promise.all([
    session.role.list.query({ limit: 200 }).then((page) => page.items),
    session.orchestrationManagement.list.query({ limit: 200 }).then((page) => page.items),
    session.apiKey.list.query({ limit: 200 }).then((page) => page.items),
  ]);
  const versions = await Promise.all(
    orchestrations.map((o) =>
      session.orchestrationManagement.versions
        .query({ orchestrationId: o.id, limit: 200 })
        .then((page) => page.items),
    ),
  );
  return { roles, orchestrations, versions, apiKeys: withoutLastUsed(apiKeys) };
}

/** Both views of a tenant, taken before and after a call that must not have touched it. */
export async function snapshotOf(tenant: { tenant: { id: string }; trpc: TestClient }) {
  return { stored: await storedRowsOf(tenant.tenant.id), asOwner: await ownerViewOf(tenant.trpc) };
}
