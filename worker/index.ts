// The Worker's entry: HTTP through Hono. Durable Object and entrypoint classes are exported here too.
import { app } from "./app";
import type { Env } from "./env";

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
