// A tenant's own model providers: create (the key is encrypted and never returned), list (keyLast4 only),
// update, delete, a one-call connection test, and the model catalog the role form picks from.
import { ProviderStore } from "../../db/providers";
import { modelCatalog } from "../../models/catalog";
import { testConnection } from "../../providers/connection-test";
import {
  providerCreateSchema,
  providerRefSchema,
  providerTestSchema,
  providerUpdateSchema,
} from "../../schemas/provider";
import { authedProcedure, router } from "../init";

const providerProcedure = authedProcedure.use(({ ctx, next }) =>
  next({ ctx: { ...ctx, providers: new ProviderStore(ctx.data.db, ctx.data.actor, ctx.env) } }),
);

export const providerRouter = router({
  create: providerProcedure
    .input(providerCreateSchema)
    .mutation(({ ctx, input }) => ctx.providers.create(input)),
  list: providerProcedure.query(({ ctx }) => ctx.providers.list()),
  update: providerProcedure
    .input(providerUpdateSchema)
    .mutation(({ ctx, input }) => ctx.providers.update(input.providerId, input.updates)),
  delete: providerProcedure
    .input(providerRefSchema)
    .mutation(({ ctx, input }) => ctx.providers.delete(input.providerId)),
  test: providerProcedure.input(providerTestSchema).mutation(async ({ ctx, input }) => {
    const { provider, apiKey } = await ctx.providers.withKey(input.providerId);
    return testConnection(ctx.env, provider, apiKey, input.model);
  }),
  models: providerProcedure.query(async ({ ctx }) => modelCatalog(await ctx.providers.models(), ctx.env)),
});
