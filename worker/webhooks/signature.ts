// The `Troupe-Signature` header, both ways: outbound webhook deliveries are signed with it, and an inbound
// HTTP trigger that requires a signature checks it. Format: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>.<raw body>")>` (several v1= entries are allowed, so a secret can be rotated). No I/O here.

export const SIGNATURE_HEADER = "Troupe-Signature";
/** A signature older (or further in the future) than this is refused: it may be a replay. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

async function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    usage,
  ]);
}

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The header value for `body` signed at `unixSeconds`. */
export async function signatureHeader(secret: string, unixSeconds: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret, "sign"),
    encoder.encode(`${unixSeconds}.${body}`),
  );
  return `t=${unixSeconds},v1=${toHex(mac)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Checks a header against the raw body, in constant time per candidate (crypto.subtle.verify). */
export async function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  nowUnixSeconds: number,
): Promise<SignatureCheck> {
  if (!header) return { ok: false, reason: `the ${SIGNATURE_HEADER} header is missing` };
  const parts = header.split(",").map((part) => part.trim().split("="));
  const t = parts.find(([name]) => name === "t")?.[1];
  const candidates = parts.filter(([name]) => name === "v1").map(([, value]) => value ?? "");
  if (!t || !/^\d+$/.test(t) || candidates.length === 0)
    return { ok: false, reason: `the ${SIGNATURE_HEADER} header must look like t=<unix seconds>,v1=<hex>` };
  if (Math.abs(nowUnixSeconds - Number(t)) > SIGNATURE_TOLERANCE_SECONDS)
    return {
      ok: false,
      reason: `the signature's timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} s away`,
    };
  const key = await hmacKey(secret, "verify");
  for (const candidate of candidates) {
    const mac = fromHex(candidate);
    if (mac && (await crypto.subtle.verify("HMAC", key, mac, encoder.encode(`${t}.${body}`))))
      return { ok: true };
  }
  return { ok: false, reason: "the signature does not match the body" };
}
