// Roles over tRPC: exactly the guide's `trpc.role.create.mutate({...})`, plus list/get/update/delete.
import { z } from "zod";
import { idSchema } from "../../schemas/common";
import {
  roleInputSchema,
  roleListSchema,
  roleLookupSchema,
  roleRefSchema,
  roleUpdatesSchema,
} from "../../schemas/role";
import { router, scopedProcedure } from "../init";

export const roleRouter = router({
  create: scopedProcedure("write")
    .input(roleInputSchema)
    .mutation(({ ctx, input }) => ctx.data.roles.create(input)),
  list: scopedProcedure("read")
    .input(roleListSchema)
    .query(async ({ ctx, input }) => ctx.data.roles.list({ ...input, ...(await ctx.data.page(input)) })),
  get: scopedProcedure("read")
    .input(roleLookupSchema)
    .query(({ ctx, input }) => ctx.data.roles.get(input.nameOrId)),
  update: scopedProcedure("write")
    .input(z.strictObject({ roleId: idSchema, updates: roleUpdatesSchema }))
    .mutation(({ ctx, input }) => ctx.data.roles.update(input.roleId, input.updates)),
  delete: scopedProcedure("write")
    .input(roleRefSchema)
    .mutation(({ ctx, input }) => ctx.data.roles.delete(input.roleId)),
});
