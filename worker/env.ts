// The Worker's bindings and variables, as declared in wrangler.toml, and the module's own exports
// (so `ctx.exports` and `cloudflare:workers` are typed).
import type { CallRunner } from "../durable-objects/call-runner/object";
import type { ExecutionObject } from "../durable-objects/execution/object";
import type { TenantGovernor } from "../durable-objects/governor/object";
import type { WebhookDispatcher } from "../durable-objects/webhooks/object";
import type { ModelEnv } from "./models/gateway";

export interface Env extends ModelEnv {
  DB: D1Database;
  ASSETS: Fetcher;
  EXECUTIONS: DurableObjectNamespace<ExecutionObject>;
  /** One object per model call handed out by an execution (durable-objects/call-runner/). */
  CALL_RUNNERS: DurableObjectNamespace<CallRunner>;
  /** One per tenant: request rate limits and the count of running executions (durable-objects/governor/). */
  GOVERNORS: DurableObjectNamespace<TenantGovernor>;
  /** One per tenant: delivers run events to the tenant's webhooks, with retries (durable-objects/webhooks/). */
  WEBHOOKS: DurableObjectNamespace<WebhookDispatcher>;
  /** Loads the tenant sandboxes agent code runs in (worker/agent-code/). */
  LOADER: WorkerLoader;
  /** Model turns per step for roles with the `meta` tool (optional; see worker/agent-code/limits.ts). */
  AGENT_MAX_TURNS?: string;
}

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "ExecutionObject" | "CallRunner" | "TenantGovernor" | "WebhookDispatcher";
    }
  }
}
