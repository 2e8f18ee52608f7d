// The Worker's bindings and variables, as declared in wrangler.toml, and the module's own exports
// (so `ctx.exports` and `cloudflare:workers` are typed).
import type { ExecutionObject } from "../durable-objects/execution";
import type { ModelEnv } from "./models/gateway";

export interface Env extends ModelEnv {
  DB: D1Database;
  ASSETS: Fetcher;
  EXECUTIONS: DurableObjectNamespace<ExecutionObject>;
}

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "ExecutionObject";
    }
  }
}
