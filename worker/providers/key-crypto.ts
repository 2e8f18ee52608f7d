// Tenants' provider keys at rest: AES-GCM-256 under a key derived per tenant (HKDF-SHA256 from the platform
// secret PROVIDER_KEYS_SECRET, info = tenant id), a fresh 12-byte IV per write, and the provider's id as
// additional data, so a ciphertext copied to another tenant's or another provider's row does not decrypt.
// Nothing here logs a key; decryption is for the call path (and the connection test) only.

const HKDF_SALT = new TextEncoder().encode("troupe-provider-keys");
const IV_BYTES = 12;
/** Shorter secrets are refused: the derived keys are only as strong as what they come from. */
export const PROVIDER_KEYS_SECRET_MIN_CHARS = 32;

export interface SealedKey {
  /** base64 */
  ciphertext: string;
  /** base64 */
  iv: string;
}

function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Why the secret cannot be used, or undefined when it can. */
export function secretProblem(secret: string | undefined): string | undefined {
  if (!secret) return "PROVIDER_KEYS_SECRET is not set";
  if (secret.length < PROVIDER_KEYS_SECRET_MIN_CHARS)
    return `PROVIDER_KEYS_SECRET is shorter than ${PROVIDER_KEYS_SECRET_MIN_CHARS} characters`;
  return undefined;
}

async function tenantKey(secret: string, tenantId: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: new TextEncoder().encode(tenantId) },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

export async function sealProviderKey(
  secret: string,
  tenantId: string,
  providerId: string,
  apiKey: string,
): Promise<SealedKey> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(providerId) },
    await tenantKey(secret, tenantId),
    new TextEncoder().encode(apiKey),
  );
  return { ciphertext: toBase64(ciphertext), iv: toBase64(iv) };
}

/** The key, or undefined when it does not decrypt (wrong tenant, provider, secret, or a damaged row). */
export async function openProviderKey(
  secret: string,
  tenantId: string,
  providerId: string,
  sealed: SealedKey,
): Promise<string | undefined> {
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: new TextEncoder().encode(providerId) },
      await tenantKey(secret, tenantId),
      fromBase64(sealed.ciphertext),
    );
    return new TextDecoder().decode(plaintext);
  } catch {
    return undefined;
  }
}
