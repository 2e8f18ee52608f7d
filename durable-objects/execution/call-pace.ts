// How long a model's calls take, as this isolate saw them, so an execution object can tell a model that
// answers faster than handing its call to a runner would cost (keep the call here, queued for one of its
// own slots) from one that takes seconds (hand it over at once). Per tenant, role and model; in memory
// only. The pace is the quickest of the last few calls: what the model itself needs, not what a busy
// moment added on top (a run's own wide fan-out keeps the object's thread busy, so its calls look slower).
import type { RoleSnapshot } from "../engine/types";

/** A model whose quickest recent call took at most this is fast: its calls wait here for a slot. */
export const FAST_CALL_MS = 25;
/** The calls a pace is taken from. */
const SAMPLES = 8;
/** What the isolate saw longer ago than this tells nothing about the model now. */
const PACE_TTL_MS = 5 * 60_000;
/** At most this many models are remembered; the one seen longest ago is forgotten first. */
const MAX_PACES = 2_000;

const paces = new Map<string, { samples: number[]; at: number }>();

export function paceKey(tenantId: string, roleName: string, model: string): string {
  return `${tenantId}\u0000${roleName}\u0000${model}`;
}

/** Whose pace a call goes by: the tenant's, for the role's model (pinned at start, or as named). */
export function paceKeyOf(tenantId: string, role: RoleSnapshot | undefined): string {
  const model = role?.model
    ? `${role.model.providerName}:${role.model.id}`
    : (role?.hyperparameters.model ?? "");
  return paceKey(tenantId, role?.name ?? "", model);
}

/** The quickest of the model's last calls (ms), or undefined when this isolate saw none lately. */
export function paceOf(key: string, now = Date.now()): number | undefined {
  const pace = paces.get(key);
  return pace && now - pace.at <= PACE_TTL_MS ? Math.min(...pace.samples) : undefined;
}

/** Notes one call of the model that took `ms`, from getting its connection to its reply. */
export function notePace(key: string, ms: number, now = Date.now()): void {
  const pace = paces.get(key);
  const samples = pace && now - pace.at <= PACE_TTL_MS ? pace.samples : [];
  samples.push(ms);
  if (samples.length > SAMPLES) samples.shift();
  paces.delete(key);
  paces.set(key, { samples, at: now });
  if (paces.size > MAX_PACES) paces.delete(paces.keys().next().value as string);
}

/** Tests: forgets every model's pace. */
export function forgetPaces(): void {
  paces.clear();
}
