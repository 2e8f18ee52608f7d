// A trigger's two secrets: the token in its URL (looked up by SHA-256, kept AES-GCM sealed so the
// dashboard can show the URL again) and the optional HMAC signing secret (sealed: it is needed to verify).
// Sealing is worker/providers/key-crypto.ts's (a per-tenant key from PROVIDER_KEYS_SECRET), with the
// trigger's id and the secret's role as additional data, so a sealed value moved to another row or
// column does not open. Nothing here logs a secret.
import { base62, randomBytes, sha256Hex } from "../auth/crypto";
import type { Env } from "../env";
import { TroupeError } from "../errors";
import { openProviderKey, type SealedKey, sealProviderKey, secretProblem } from "../providers/key-crypto";

export const TRIGGER_TOKEN_PREFIX = "trg_";
export const TRIGGER_SECRET_PREFIX = "tsec_";
/** 32 random bytes (256 bits) as 43 base62 characters. */
const RANDOM_BYTES = 32;
const RANDOM_CHARS = 43;
export const TRIGGER_TOKEN_PATTERN = /^trg_[0-9A-Za-z]{43}$/;

export type SecretRole = "token" | "secret";

export function newTriggerToken(): string {
  return `${TRIGGER_TOKEN_PREFIX}${base62(randomBytes(RANDOM_BYTES), RANDOM_CHARS)}`;
}

export function newSigningSecret(): string {
  return `${TRIGGER_SECRET_PREFIX}${base62(randomBytes(RANDOM_BYTES), RANDOM_CHARS)}`;
}

export function tokenHash(token: string): Promise<string> {
  return sha256Hex(token);
}

function platformSecret(env: Pick<Env, "PROVIDER_KEYS_SECRET">): string {
  const problem = secretProblem(env.PROVIDER_KEYS_SECRET);
  if (problem)
    throw new TroupeError(
      "PRECONDITION_FAILED",
      `${problem}, so trigger URLs cannot be stored encrypted; the operator sets it with \`wrangler secret put PROVIDER_KEYS_SECRET\``,
    );
  return env.PROVIDER_KEYS_SECRET ?? "";
}

export function sealTriggerSecret(
  env: Pick<Env, "PROVIDER_KEYS_SECRET">,
  tenantId: string,
  triggerId: string,
  role: SecretRole,
  value: string,
): Promise<SealedKey> {
  return sealProviderKey(platformSecret(env), tenantId, `trigger:${triggerId}:${role}`, value);
}

/** The secret, or undefined when it does not open (another row's, a changed platform secret). */
export function openTriggerSecret(
  env: Pick<Env, "PROVIDER_KEYS_SECRET">,
  tenantId: string,
  triggerId: string,
  role: SecretRole,
  sealed: SealedKey,
): Promise<string | undefined> {
  return openProviderKey(env.PROVIDER_KEYS_SECRET ?? "", tenantId, `trigger:${triggerId}:${role}`, sealed);
}
