// The rule for a URL Troupe itself calls on a tenant's behalf (a provider's base URL, a webhook): absolute,
// https unless the deployment allows http (ALLOW_INSECURE_PROVIDER_URLS = "true": local development and
// tests), no credentials in it. The callers word what would leak and where credentials belong instead.

export type OutboundUrlCheck = { ok: true; url: string } | { ok: false; message: string };

export interface OutboundUrlWording {
  /** A valid example, e.g. "https://example.com/hooks/troupe". */
  example: string;
  /** What plain http would expose, e.g. "the provider's key". */
  exposed: string;
  /** Where credentials go instead of the URL, e.g. "put the key in apiKey". */
  credentials: string;
}

export function checkOutboundUrl(
  raw: string,
  allowInsecure: boolean,
  wording: OutboundUrlWording,
): OutboundUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      ok: false,
      message: `${JSON.stringify(raw)} is not a URL; give an absolute one such as ${wording.example}`,
    };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, message: `must be an https URL, not ${url.protocol}` };
  if (url.protocol === "http:" && !allowInsecure)
    return {
      ok: false,
      message: `must be https: ${wording.exposed} would cross the network in clear text over http (plain http is allowed only where ALLOW_INSECURE_PROVIDER_URLS is "true", for local development)`,
    };
  if (url.username || url.password)
    return { ok: false, message: `must not contain a user name or password; ${wording.credentials}` };
  return { ok: true, url: raw };
}
