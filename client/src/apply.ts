// Create-or-update by name, so a folder of JSON files can be the source of truth: each item is created
// when no role/orchestration has its name, left alone when the stored one already matches, else updated.
import type { TroupeClient } from "./client.ts";
import { orchestrationUnchanged, roleUnchanged } from "./definitions.ts";
import { isApiError } from "./errors.ts";
import type { OrchestrationInput, RoleInput } from "./types.ts";

export type ApplyAction = "created" | "updated" | "unchanged";

export interface Applied {
  kind: "role" | "orchestration";
  name: string;
  id: string;
  action: ApplyAction;
  /** The orchestration's version after apply. */
  version?: number;
}

/** A definition file as the comparisons read it. */
type DefinitionFile = Parameters<typeof roleUnchanged>[0];

function nameOf(item: unknown, kind: string): string {
  const name = (item as { name?: unknown } | null)?.name;
  if (typeof item !== "object" || item === null || Array.isArray(item))
    throw new TypeError(`each ${kind} must be a JSON object with a "name"`);
  if (typeof name !== "string" || name.trim() === "")
    throw new TypeError(`each ${kind} needs a "name" (apply finds what to update by name)`);
  return name;
}

/** Looks up by name; undefined when there is none (any other error is thrown). */
async function findByName<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (isApiError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}

export async function applyRole(client: TroupeClient, role: RoleInput): Promise<Applied> {
  const name = nameOf(role, "role");
  // get() also answers to an id: apply matches by name only.
  const found = await findByName(() => client.role.get.query({ nameOrId: name }));
  const stored = found?.name === name ? found : undefined;
  if (!stored) {
    const created = await client.role.create.mutate(role);
    return { kind: "role", name, id: created.id, action: "created" };
  }
  if (roleUnchanged(role as unknown as DefinitionFile, stored))
    return { kind: "role", name, id: stored.id, action: "unchanged" };
  const updated = await client.role.update.mutate({ roleId: stored.id, updates: role });
  return { kind: "role", name, id: updated.id, action: "updated" };
}

export async function applyOrchestration(
  client: TroupeClient,
  orchestration: OrchestrationInput,
): Promise<Applied> {
  const name = nameOf(orchestration, "orchestration");
  const found = await findByName(() => client.orchestrationManagement.get.query({ nameOrId: name }));
  const stored = found?.name === name ? found : undefined; // get() also answers to an id

  if (!stored) {
    const created = await client.orchestrationManagement.create.mutate(orchestration);
    return { kind: "orchestration", name, id: created.id, action: "created", version: created.version };
  }
  if (orchestrationUnchanged(orchestration as unknown as DefinitionFile, stored))
    return { kind: "orchestration", name, id: stored.id, action: "unchanged", version: stored.version };
  // The file is the whole definition: what it leaves out goes back to its default (no budget, active, ...).
  const { description = "", tags = [], isActive = true, steps, budget } = orchestration;
  const updated = await client.orchestrationManagement.update.mutate({
    orchestrationId: stored.id,
    expectedVersion: stored.version,
    updates: { description, tags, isActive, steps, budget: budget ?? null },
  });
  return { kind: "orchestration", name, id: updated.id, action: "updated", version: updated.version };
}
