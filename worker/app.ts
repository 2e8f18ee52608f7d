// HTTP routes: tRPC at /trpc, health, the definition JSON Schema, the agent-code API's declarations
// (/meta-api.d.ts); everything else is the dashboard's static assets (wrangler.toml sends only these
// paths to the Worker first).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Hono } from "hono";
import { z } from "zod";
import { META_API_DTS } from "./agent-code/meta-api";
import type { Env } from "./env";
import { orchestrationInputSchema } from "./schemas/orchestration";
import { contextFactory } from "./trpc/context";
import { appRouter } from "./trpc/routers/_app";

export const app = new Hono<{ Bindings: Env }>();

app.all("/trpc/*", (c) =>
  fetchRequestHandler({
    endpoint: "/trpc",
    req: c.req.raw,
    router: appRouter,
    createContext: contextFactory(c.env, (promise) => c.executionCtx.waitUntil(promise)),
    onError({ error, path }) {
      // Never the input: it may hold passwords or keys.
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`trpc ${path ?? "?"}:`, error.cause ?? error);
    },
  }),
);

app.get("/health", async (c) => {
  const started = Date.now();
  try {
    await c.env.DB.prepare("select 1").first();
    return c.json({ ok: true, d1: { ok: true, ms: Date.now() - started } });
  } catch (error) {
    return c.json({ ok: false, d1: { ok: false, error: (error as Error).message } }, 503);
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

app.get("/meta-api.d.ts", (c) =>
  c.body(META_API_DTS, 200, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "public, max-age=300",
  }),
);

app.all("*", (c) => c.env.ASSETS.fetch(c.req.raw));
