// What the `trigger` router accepts: an HTTP trigger of an orchestration, and its settings.
// Shared by the API and the dashboard: no runtime imports beyond zod.
import { z } from "zod";
import { idSchema, oneOf, strictObject } from "./common";
import { pageFields } from "./page";

export const TRIGGER_KINDS = ["http"] as const;

export const triggerCreateSchema = strictObject({
  orchestrationId: idSchema,
  kind: oneOf(TRIGGER_KINDS),
  /** Callers must sign each request (Troupe-Signature); the signing secret is shown once. */
  requireSignature: z.boolean("must be true or false").optional(),
});

export const triggerRefSchema = strictObject({ id: idSchema });

export const triggerListSchema = strictObject({
  orchestrationId: idSchema.optional(),
  ...pageFields,
}).nullish();

export const triggerUpdateSchema = strictObject({
  id: idSchema,
  enabled: z.boolean("must be true or false").optional(),
  requireSignature: z.boolean("must be true or false").optional(),
});
