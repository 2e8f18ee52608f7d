// Which base URLs a tenant's provider may have: absolute http(s) URLs without credentials in them, and
// https only unless the deployment allows otherwise (local development and tests, ALLOW_INSECURE_PROVIDER_URLS).
// The tenant's key is sent to this URL on every call, so the checks are about where that key goes
// (the rule is worker/http/outbound-url.ts, shared with webhooks).
import { checkOutboundUrl, type OutboundUrlCheck } from "../http/outbound-url";

export function checkBaseUrl(raw: string, allowInsecure: boolean): OutboundUrlCheck {
  const checked = checkOutboundUrl(raw, allowInsecure, {
    example: "https://openrouter.ai/api/v1",
    exposed: "the provider's key",
    credentials: "put the key in apiKey",
  });
  // Kept as written (less a trailing slash): the chat-completions path is appended to it.
  return checked.ok ? { ok: true, url: checked.url.replace(/\/+$/, "") } : checked;
}
