// Which base URLs a tenant's provider may have: absolute http(s) URLs without credentials in them, and
// https only unless the deployment allows otherwise (local development and tests, ALLOW_INSECURE_PROVIDER_URLS).
// The tenant's key is sent to this URL on every call, so the checks are about where that key goes.

export type BaseUrlCheck = { ok: true; url: string } | { ok: false; message: string };

export function checkBaseUrl(raw: string, allowInsecure: boolean): BaseUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      ok: false,
      message: `${JSON.stringify(raw)} is not a URL; give an absolute one such as https://openrouter.ai/api/v1`,
    };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, message: `must be an https URL, not ${url.protocol}` };
  if (url.protocol === "http:" && !allowInsecure)
    return {
      ok: false,
      message:
        'must be https: the provider\'s key would cross the network in clear text over http (plain http is allowed only where ALLOW_INSECURE_PROVIDER_URLS is "true", for local development)',
    };
  if (url.username || url.password)
    return { ok: false, message: "must not contain a user name or password; put the key in apiKey" };
  // Kept as written (less a trailing slash): the chat-completions path is appended to it.
  return { ok: true, url: raw.replace(/\/+$/, "") };
}
