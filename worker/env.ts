// The Worker's bindings and variables, as declared in wrangler.toml, and the module's own exports
// (so `ctx.exports` and `cloudflare:workers` are typed).
export interface Env {
  DB: D1Database;
  ASSETS: Fetcher;
  /** Which model provider runs steps when a role does not name one ("local" needs no network). */
  DEFAULT_MODEL_PROVIDER?: string;
}

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index");
    }
  }
}
