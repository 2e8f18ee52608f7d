// A tenant's own model providers: create (the key is encrypted and never returned), list (keyLast4 only),
// update, delete, a one-call connection test, and the model catalog the role form picks from.
import { ProviderStore } from "../../db/providers";
import type { ApiKeyScope } from "../../limits";
import { modelCatalog } from "../../models/catalog";
import { testConnection } from "../../providers/connection-test";
import { pageSchema } from "../../schemas/page";
import {
  providerCreateSchema,
  providerRefSchema,
  providerTestSchema,
  providerUpdateSchema,
} from "../../schemas/provider";
import { router, scopedProcedure } from "../init";

/** Testing a provider spends a call on its stored key, so it needs "write" like the other changes. */
const providerProcedure = (scope: ApiKeyScope) =>
  scopedProcedure(scope).use(({ ctx, next }) =>
    next({
      ctx: {
        ...ctx,
        providers: new ProviderStore(ctx.data.db, ctx.data.actor, ctx.env, () => ctx.data.limits()),
      },
    }),
  );

export const providerRouter = router({
  create: providerProcedure("write")
    .input(providerCreateSchema)
    .mutation(({ ctx, input }) => ctx.providers.create(input)),
  list: providerProcedure("read")
    .input(pageSchema)
    .query(async ({ ctx, input }) => ctx.providers.list(await ctx.data.page(input))),
  update: providerProcedure("write")
    .input(providerUpdateSchema)
    .mutation(({ ctx, input }) => ctx.providers.update(input.providerId, input.updates)),
  delete: providerProcedure("write")
    .input(providerRefSchema)
    .mutation(({ ctx, input }) => ctx.providers.delete(input.providerId)),
  test: providerProcedure("write")
    .input(providerTestSchema)
    .mutation(async ({ ctx, input }) => {
      const { provider, apiKey } = await ctx.providers.withKey(input.providerId);
      return testConnection(ctx.env, provider, apiKey, input.model);
    }),
  models: providerProcedure("read").query(async ({ ctx }) =>
    modelCatalog(await ctx.providers.models(), ctx.env),
  ),
});
