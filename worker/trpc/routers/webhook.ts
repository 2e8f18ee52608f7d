// Outbound webhooks: create (the signing secret is returned this once), list, get, update, delete, the
// deliveries of one with their attempts, and redeliver. Changes need "write", reads "read", like providers.
import { TRPCError } from "@trpc/server";
import { webhookDispatcher } from "../../../durable-objects/webhooks/client";
import { WebhookStore } from "../../db/webhooks";
import { TroupeError } from "../../errors";
import type { ApiKeyScope } from "../../limits";
import { pageSchema } from "../../schemas/page";
import {
  webhookCreateSchema,
  webhookDeliveriesSchema,
  webhookRedeliverSchema,
  webhookRefSchema,
  webhookUpdateSchema,
} from "../../schemas/webhook";
import { router, scopedProcedure } from "../init";

const webhookProcedure = (scope: ApiKeyScope) =>
  scopedProcedure(scope).use(({ ctx, next }) =>
    next({
      ctx: {
        ...ctx,
        webhooks: new WebhookStore(ctx.data.db, ctx.data.actor, ctx.env, () => ctx.data.limits()),
        dispatcher: webhookDispatcher(ctx.env, ctx.data.actor.tenantId),
      },
    }),
  );

/** The dispatcher caches the tenant's webhook list; a change is told at once (best effort: it also expires). */
async function told<T>(dispatcher: { webhooksChanged(): Promise<void> }, value: T): Promise<T> {
  await dispatcher.webhooksChanged().catch(() => undefined);
  return value;
}

export const webhookRouter = router({
  create: webhookProcedure("write")
    .input(webhookCreateSchema)
    .mutation(async ({ ctx, input }) => told(ctx.dispatcher, await ctx.webhooks.create(input))),
  list: webhookProcedure("read")
    .input(pageSchema)
    .query(async ({ ctx, input }) => ctx.webhooks.list(await ctx.data.page(input))),
  get: webhookProcedure("read")
    .input(webhookRefSchema)
    .query(({ ctx, input }) => ctx.webhooks.get(input.id)),
  update: webhookProcedure("write")
    .input(webhookUpdateSchema)
    .mutation(async ({ ctx, input }) => told(ctx.dispatcher, await ctx.webhooks.update(input))),
  delete: webhookProcedure("write")
    .input(webhookRefSchema)
    .mutation(async ({ ctx, input }) => told(ctx.dispatcher, await ctx.webhooks.delete(input.id))),
  deliveries: webhookProcedure("read")
    .input(webhookDeliveriesSchema)
    .query(async ({ ctx, input }) => ctx.webhooks.deliveries(input.webhookId, await ctx.data.page(input))),
  redeliver: webhookProcedure("write")
    .input(webhookRedeliverSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.webhooks.checkDelivery(input.deliveryId);
      const attempted = await ctx.dispatcher.redeliver(ctx.data.actor.tenantId, input.deliveryId);
      if (!attempted.ok) {
        if (attempted.code)
          throw new TroupeError(attempted.code as "NOT_FOUND" | "CONFLICT", attempted.error);
        throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: attempted.error });
      }
      return attempted.value;
    }),
});
