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
import { authedProcedure, router } from "../init";

export const roleRouter = router({
  create: authedProcedure.input(roleInputSchema).mutation(({ ctx, input }) => ctx.data.roles.create(input)),
  list: authedProcedure.input(roleListSchema).query(({ ctx, input }) => ctx.data.roles.list(input ?? {})),
  get: authedProcedure.input(roleLookupSchema).query(({ ctx, input }) => ctx.data.roles.get(input.nameOrId)),
  update: authedProcedure
    .input(z.strictObject({ roleId: idSchema, updates: roleUpdatesSchema }))
    .mutation(({ ctx, input }) => ctx.data.roles.update(input.roleId, input.updates)),
  delete: authedProcedure
    .input(roleRefSchema)
    .mutation(({ ctx, input }) => ctx.data.roles.delete(input.roleId)),
});
