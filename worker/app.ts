// HTTP routes: tRPC at /trpc, health, the definition JSON Schema, the agent-code API's declarations
// (/meta-api.d.ts); everything else is the dashboard's static assets (wrangler.toml sends only these
// paths to the Worker first).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Hono } from "hono";
import { z } from "zod";
import { META_API_DTS } from "./agent-code/meta-api";
import type { Env } from "./env";
import { capBatch, limitBody, sameOriginJson, securityHeaders } from "./http/edge";
import { openApiDocument } from "./http/openapi";
import { triggerRoutes } from "./http/triggers";
import { DEFAULT_LIMITS } from "./limits";
import { orchestrationInputSchema } from "./schemas/orchestration";
import { contextFactory } from "./trpc/context";
import { appRouter } from "./trpc/routers/_app";

export const app = new Hono<{ Bindings: Env }>();

// Every response carries the security headers; no body is read past the size limit; tRPC sees only
// same-origin JSON mutations and batches within the cap (worker/http/edge.ts).
app.use("*", securityHeaders, limitBody);
app.use("/trpc/*", sameOriginJson, capBatch);

app.all("/trpc/*", (c) =>
  fetchRequestHandler({
    endpoint: "/trpc",
    req: c.req.raw,
    router: appRouter,
    maxBatchSize: DEFAULT_LIMITS.maxBatchSize,
    createContext: contextFactory(c.env, (promise) => c.executionCtx.waitUntil(promise)),
    onError({ error, path }) {
      // Never the input: it may hold passwords or keys.
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`trpc ${path ?? "?"}:`, error.cause ?? error);
    },
  }),
);

// Inbound HTTP triggers: called from other origins by design, so no same-origin rule (worker/http/triggers.ts).
app.route("/triggers", triggerRoutes);

app.get("/health", async (c) => {
  const started = Date.now();
  try {
    await c.env.DB.prepare("select 1").first();
    return c.json({ ok: true, d1: { ok: true, ms: Date.now() - started } });
  } catch (error) {
    // The error text stays in the log: it can name tables, queries or internal addresses.
    console.error("health: D1 check failed:", error);
    return c.json({ ok: false }, 503);
  }
});

let orchestrationJsonSchema: unknown;
app.get("/schema/orchestration.json", (c) => {
  orchestrationJsonSchema ??= {
    $id: new URL("/schema/orchestration.json", c.req.url).href,
    title: "Troupe orchestration definition",
    ...z.toJSONSchema(orchestrationInputSchema, { io: "input", unrepresentable: "any" }),
  };
  return c.json(orchestrationJsonSchema);
});

// The API for callers outside TypeScript (worker/http/openapi.ts), built from the router and its zod schemas.
app.get("/openapi.json", (c) =>
  c.json(openApiDocument(new URL(c.req.url).origin), 200, { "cache-control": "public, max-age=300" }),
);

app.get("/meta-api.d.ts", (c) =>
  c.body(META_API_DTS, 200, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "public, max-age=300",
  }),
);

// A fetched response's headers are immutable; a copy lets the security headers be set on it.
app.all("*", async (c) => {
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  return new Response(asset.body, asset);
});
