// Which URLs a webhook may POST to: absolute https URLs without credentials in them; http only where the
// deployment allows it (local development and tests: ALLOW_INSECURE_PROVIDER_URLS = "true", the same
// switch as providers' base URLs, see worker/providers/base-url.ts). Run events would cross the
// network in clear text over http.

export type WebhookUrlCheck = { ok: true; url: string } | { ok: false; message: string };

export function checkWebhookUrl(raw: string, allowInsecure: boolean): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      ok: false,
      message: `${JSON.stringify(raw)} is not a URL; give an absolute one such as https://example.com/hooks/troupe`,
    };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, message: `must be an https URL, not ${url.protocol}` };
  if (url.protocol === "http:" && !allowInsecure)
    return {
      ok: false,
      message:
        'must be https: run events and their signatures would cross the network in clear text over http (plain http is allowed only where ALLOW_INSECURE_PROVIDER_URLS is "true", for local development)',
    };
  if (url.username || url.password)
    return {
      ok: false,
      message: "must not contain a user name or password; verify the Troupe-Signature header instead",
    };
  return { ok: true, url: raw };
}
