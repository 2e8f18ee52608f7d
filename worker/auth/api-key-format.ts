// API key format: `trp_` + 33 base62 characters of randomness (192 bits) + a 6-character CRC-32 checksum.
// The checksum lets us refuse a mistyped or truncated key before touching the database.
import { base62, crc32, randomBytes } from "./crypto";

export const API_KEY_PREFIX = "trp_";
const BODY_CHARS = 33;
const CHECKSUM_CHARS = 6;
const SHAPE = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${BODY_CHARS + CHECKSUM_CHARS}}$`);
/** How much of the key lists show: enough to tell keys apart, far too little to guess the rest. */
export const DISPLAY_PREFIX_CHARS = API_KEY_PREFIX.length + 6;

function checksum(body: string): string {
  const value = crc32(body);
  return base62(
    new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]),
    CHECKSUM_CHARS,
  );
}

export function generateApiKey(): { key: string; prefix: string } {
  const body = base62(randomBytes(24), BODY_CHARS);
  const key = `${API_KEY_PREFIX}${body}${checksum(body)}`;
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_CHARS) };
}

export function hasValidApiKeyShape(key: string): boolean {
  if (!SHAPE.test(key)) return false;
  const body = key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + BODY_CHARS);
  return key.slice(API_KEY_PREFIX.length + BODY_CHARS) === checksum(body);
}
