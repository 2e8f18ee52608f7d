// Cron schedules over tRPC: create (answers the next run times), list/get (next and last runs), update,
// pause, resume, delete. The runs themselves start from the Worker's scheduled handler
// (worker/schedules/fire.ts).
import { ScheduleStore } from "../../db/schedules";
import type { TenantData } from "../../db/tenant-data";
import {
  scheduleCreateSchema,
  scheduleListSchema,
  scheduleRefSchema,
  scheduleUpdateSchema,
} from "../../schemas/schedule";
import { router, scopedProcedure } from "../init";

function store(ctx: { data: TenantData; now: number }): ScheduleStore {
  return new ScheduleStore(ctx.data.db, ctx.data.actor, () => ctx.data.limits(), ctx.now);
}

export const scheduleRouter = router({
  create: scopedProcedure("write")
    .input(scheduleCreateSchema)
    .mutation(({ ctx, input }) => store(ctx).create(input)),
  list: scopedProcedure("read")
    .input(scheduleListSchema)
    .query(async ({ ctx, input }) =>
      store(ctx).list({ orchestrationId: input?.orchestrationId, ...(await ctx.data.page(input)) }),
    ),
  get: scopedProcedure("read")
    .input(scheduleRefSchema)
    .query(({ ctx, input }) => store(ctx).get(input.id)),
  update: scopedProcedure("write")
    .input(scheduleUpdateSchema)
    .mutation(({ ctx, input }) => store(ctx).update(input)),
  pause: scopedProcedure("write")
    .input(scheduleRefSchema)
    .mutation(({ ctx, input }) => store(ctx).pause(input.id)),
  /** Active again from now; the times missed while paused are not made up. */
  resume: scopedProcedure("write")
    .input(scheduleRefSchema)
    .mutation(({ ctx, input }) => store(ctx).resume(input.id)),
  delete: scopedProcedure("write")
    .input(scheduleRefSchema)
    .mutation(({ ctx, input }) => store(ctx).delete(input.id)),
});
