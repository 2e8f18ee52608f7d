// Which URLs a webhook may POST to: the outbound URL rule (worker/http/outbound-url.ts, the same as
// providers' base URLs). Run events would cross the network in clear text over http.
import { checkOutboundUrl, type OutboundUrlCheck } from "../http/outbound-url";

export function checkWebhookUrl(raw: string, allowInsecure: boolean): OutboundUrlCheck {
  return checkOutboundUrl(raw, allowInsecure, {
    example: "https://example.com/hooks/troupe",
    exposed: "run events and their signatures",
    credentials: "verify the Troupe-Signature header instead",
  });
}
