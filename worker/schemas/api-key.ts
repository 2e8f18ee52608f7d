// What `apiKey.create` accepts: a name, the scopes the key holds (all four when omitted, as keys made
// before scopes existed) and an optional expiry, as a moment or as days from now (never both).
import { z } from "zod";
import { invalid } from "../errors";
import { API_KEY_SCOPES, type ApiKeyScope } from "../limits";
import { displayName, oneOf, strictObject, uniqueBy } from "./common";

/** The longest expiry a key may be given (about ten years); longer is "no expiry". */
export const API_KEY_MAX_DAYS = 3650;
const DAY_MS = 86_400_000;

export const apiKeyCreateSchema = strictObject({
  name: displayName(100),
  scopes: z
    .array(oneOf(API_KEY_SCOPES), { error: `must be a list of scopes from ${API_KEY_SCOPES.join(", ")}` })
    .min(1, `must name at least one scope: ${API_KEY_SCOPES.join(", ")}`)
    .superRefine((scopes, ctx) => uniqueBy(scopes, (scope) => scope, ctx, "scope"))
    .optional(),
  expiresAt: z.iso
    .datetime({ offset: true, error: "must be a date and time such as 2027-01-31T00:00:00Z" })
    .optional(),
  expiresInDays: z
    .int("must be a whole number of days")
    .min(1, "must be at least 1")
    .max(API_KEY_MAX_DAYS, `must be at most ${API_KEY_MAX_DAYS}`)
    .optional(),
}).superRefine((input, ctx) => {
  if (input.expiresAt !== undefined && input.expiresInDays !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["expiresInDays"],
      message: "give expiresAt or expiresInDays, not both",
    });
  }
});
export type ApiKeyCreateInput = z.infer<typeof apiKeyCreateSchema>;

/** The scopes a new key holds: as asked, in the canonical order, or all of them. */
export function scopesOf(input: Pick<ApiKeyCreateInput, "scopes">): ApiKeyScope[] {
  const asked = input.scopes ?? API_KEY_SCOPES;
  return API_KEY_SCOPES.filter((scope) => asked.includes(scope));
}

/** The moment a new key expires (null: never); refuses one that is not in the future or too far. */
export function expiryOf(input: Pick<ApiKeyCreateInput, "expiresAt" | "expiresInDays">, now: number) {
  if (input.expiresInDays !== undefined) return new Date(now + input.expiresInDays * DAY_MS);
  if (input.expiresAt === undefined) return null;
  const at = Date.parse(input.expiresAt);
  if (at <= now) {
    const message = `must be in the future (it is ${new Date(now).toISOString()} now)`;
    throw invalid([{ path: "expiresAt", message }]);
  }
  if (at > now + API_KEY_MAX_DAYS * DAY_MS) {
    throw invalid([{ path: "expiresAt", message: `must be at most ${API_KEY_MAX_DAYS} days from now` }]);
  }
  return new Date(at);
}
