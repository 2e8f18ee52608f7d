// Agent code over tRPC: run TypeScript as a role (the dashboard's agent console), and list past runs.
// The code runs in the tenant's sandbox with the role's permissions, exactly as inside an orchestration.
import { requestGate } from "../../agent-code/gate";
import { DEFAULT_TIMEOUT_MS } from "../../agent-code/limits";
import { runAgentCode } from "../../agent-code/runner";
import { agentRunsSchema, runCodeSchema } from "../../schemas/agent";
import { router, scopedProcedure } from "../init";

export const agentRouter = router({
  runCode: scopedProcedure("run")
    .input(runCodeSchema)
    .mutation(async ({ ctx, input }) => {
      const role = input.roleId
        ? await ctx.data.roles.getById(input.roleId)
        : await ctx.data.roles.get(input.roleName ?? "");
      return runAgentCode(ctx.env, {
        tenantId: ctx.data.actor.tenantId,
        roleId: role.id,
        code: input.code,
        timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        gates: [requestGate(ctx.req)],
        signal: ctx.req.signal,
      });
    }),
  runs: scopedProcedure("read")
    .input(agentRunsSchema)
    .query(async ({ ctx, input }) => ctx.data.agentRuns.list({ ...input, ...(await ctx.data.page(input)) })),
});
