// Inbound HTTP triggers over tRPC: create (the URL, and the signing secret when one is required, are
// answered once in full), list/get (with the URL and the last runs), update, rotate, delete.
// The URL itself is served by worker/http/triggers.ts.
import type { TenantData } from "../../db/tenant-data";
import { TriggerStore } from "../../db/triggers";
import type { Env } from "../../env";
import {
  triggerCreateSchema,
  triggerListSchema,
  triggerRefSchema,
  triggerUpdateSchema,
} from "../../schemas/trigger";
import { router, scopedProcedure } from "../init";

function store(ctx: { data: TenantData; env: Env; req: Request }): TriggerStore {
  const origin = new URL(ctx.req.url).origin;
  return new TriggerStore(ctx.data.db, ctx.data.actor, ctx.env, () => ctx.data.limits(), origin);
}

export const triggerRouter = router({
  create: scopedProcedure("write")
    .input(triggerCreateSchema)
    .mutation(({ ctx, input }) => store(ctx).create(input)),
  list: scopedProcedure("read")
    .input(triggerListSchema)
    .query(async ({ ctx, input }) =>
      store(ctx).list({ orchestrationId: input?.orchestrationId, ...(await ctx.data.page(input)) }),
    ),
  get: scopedProcedure("read")
    .input(triggerRefSchema)
    .query(({ ctx, input }) => store(ctx).get(input.id)),
  update: scopedProcedure("write")
    .input(triggerUpdateSchema)
    .mutation(({ ctx, input }) => store(ctx).update(input)),
  /** A new URL (the old one stops at once) and, if signatures are required, a new signing secret. */
  rotate: scopedProcedure("write")
    .input(triggerRefSchema)
    .mutation(({ ctx, input }) => store(ctx).rotate(input.id)),
  delete: scopedProcedure("write")
    .input(triggerRefSchema)
    .mutation(({ ctx, input }) => store(ctx).delete(input.id)),
});
