// The Worker's entry: HTTP through Hono, the cron sweeper, and the Durable Object class.
import { app } from "./app";
import type { Env } from "./env";
import { sweep } from "./executions/sweeper";

export { ExecutionObject } from "../durable-objects/execution";

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (_controller, env, ctx) => {
    ctx.waitUntil(sweep(env, Date.now()));
  },
} satisfies ExportedHandler<Env>;
