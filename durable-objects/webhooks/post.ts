// One POST of a delivery and what it means: signed body out, status and the first 1 KB back, and the
// verdict (delivered, retry later, failed for good). Redirects are not followed: a 3xx is a failure.
import { SIGNATURE_HEADER, signatureHeader } from "../../worker/webhooks/signature";

/** No answer within this long is a timeout (retried). */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** What is kept of a response body, in bytes. */
export const RESPONSE_EXCERPT_BYTES = 1_024;

export interface PostRequest {
  url: string;
  secret: string;
  deliveryId: string;
  eventType: string;
  body: string;
}

export type PostResult =
  | { kind: "response"; status: number; excerpt: string; durationMs: number; retryAfterMs?: number }
  | { kind: "error"; error: string; durationMs: number };

export type Verdict = "delivered" | "retry" | "failed";

export async function postDelivery(
  request: PostRequest,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<PostResult> {
  const signature = await signatureHeader(request.secret, Math.floor(Date.now() / 1000), request.body);
  const started = Date.now();
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Troupe-Webhooks",
        [SIGNATURE_HEADER]: signature,
        "Troupe-Delivery": request.deliveryId,
        "Troupe-Event": request.eventType,
      },
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const excerpt = await readExcerpt(response);
    const result: PostResult = {
      kind: "response",
      status: response.status,
      excerpt,
      durationMs: Date.now() - started,
    };
    const retryAfter = retryAfterMs(response.headers.get("retry-after"));
    if (retryAfter !== undefined) result.retryAfterMs = retryAfter;
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get("location");
      return { ...result, excerpt: location ? `redirect to ${location} (not followed)` : excerpt };
    }
    return result;
  } catch (error) {
    const durationMs = Date.now() - started;
    const name = (error as Error).name;
    if (name === "TimeoutError" || name === "AbortError")
      return { kind: "error", error: `no answer within ${timeoutMs / 1000} s`, durationMs };
    return { kind: "error", error: `could not connect: ${(error as Error).message}`, durationMs };
  }
}

/** 2xx delivered; 408, 429, 5xx, timeouts and network errors retried; anything else (4xx, 3xx) failed at once. */
export function verdictOf(result: PostResult): Verdict {
  if (result.kind === "error") return "retry";
  const { status } = result;
  if (status >= 200 && status < 300) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "failed";
}

/** Why an attempt did not deliver, in words for the deliveries list. */
export function errorOf(result: PostResult): string | null {
  if (result.kind === "error") return result.error;
  const { status } = result;
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400)
    return `answered ${status}: redirects are not followed; give the final URL`;
  return `answered ${status}`;
}

async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // The rest is not wanted: a large or endless body must not hold the connection.
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(size, RESPONSE_EXCERPT_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  // A multi-byte character cut at the end decodes as one replacement character.
  return new TextDecoder().decode(bytes);
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
