// The Worker's entry: HTTP through Hono, the cron sweeper, the Durable Object class, and MetaTools, the
// entrypoint agent-code sandboxes reach D1 and the engine through (bound per sandbox via ctx.exports).

import { purgeExpired } from "../durable-objects/execution/retention";
import { sweep } from "../durable-objects/execution/sweeper";
import { app } from "./app";
import type { Env } from "./env";
import { fireDueSchedules } from "./schedules/fire";

export { CallRunner } from "../durable-objects/call-runner/object";
export { ExecutionObject } from "../durable-objects/execution/object";
export { TenantGovernor } from "../durable-objects/governor/object";
export { WebhookDispatcher } from "../durable-objects/webhooks/object";
export { MetaTools } from "./agent-code/meta-tools";

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (_controller, env, ctx) => {
    const now = Date.now();
    ctx.waitUntil(sweep(env, now));
    ctx.waitUntil(purgeExpired(env, now));
    ctx.waitUntil(fireDueSchedules(env, now));
  },
} satisfies ExportedHandler<Env>;
