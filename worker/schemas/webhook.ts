// Outbound webhooks as users write them: the URL, the events they hear and an optional orchestration
// filter. The URL's scheme rule (https in production) needs the environment: worker/webhooks/url.ts.
// Shared by the API and the dashboard: no runtime imports beyond zod.
import { z } from "zod";
import { idSchema, oneOf, strictObject } from "./common";
import { pageFields } from "./page";

export const WEBHOOK_EVENTS = [
  "execution.completed",
  "execution.failed",
  "execution.cancelled",
  "approval.requested",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const WEBHOOK_URL_MAX_CHARS = 2_000;

const urlSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? "is required: the https URL to POST to" : undefined),
  })
  .trim()
  .min(1, "must not be empty")
  .max(WEBHOOK_URL_MAX_CHARS, `must be at most ${WEBHOOK_URL_MAX_CHARS} characters`);

const eventsSchema = z
  .array(oneOf(WEBHOOK_EVENTS), {
    error: (issue) =>
      issue.input === undefined ? `is required: one or more of ${WEBHOOK_EVENTS.join(", ")}` : undefined,
  })
  .min(1, `must name at least one event: ${WEBHOOK_EVENTS.join(", ")}`)
  .max(WEBHOOK_EVENTS.length, `must list each event at most once`)
  .refine((events) => new Set(events).size === events.length, "must list each event at most once");

export const webhookCreateSchema = strictObject({
  url: urlSchema,
  events: eventsSchema,
  /** Only this orchestration's runs (absent: every run of the team). */
  orchestrationId: idSchema.optional(),
});
export type WebhookCreateInput = z.infer<typeof webhookCreateSchema>;

export const webhookUpdateSchema = strictObject({
  id: idSchema,
  url: urlSchema.optional(),
  events: eventsSchema.optional(),
  /** null removes the filter. */
  orchestrationId: idSchema.nullable().optional(),
  enabled: z.boolean().optional(),
});
export type WebhookUpdateInput = z.infer<typeof webhookUpdateSchema>;

export const webhookRefSchema = strictObject({ id: idSchema });

export const webhookDeliveriesSchema = strictObject({ webhookId: idSchema, ...pageFields });

export const webhookRedeliverSchema = strictObject({ deliveryId: idSchema });

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
