// The benchmark's Worker: Troupe exactly as deployed (same app, same Durable Object) plus the floor
// (a bare alarm chain), the peer (Cloudflare Workflows) and a few timing routes that start a run and
// answer when it has finished. Never deployed: it exists only under bench/wrangler.toml.

import { isTerminal } from "../../durable-objects/engine/status";
import { startExecution } from "../../durable-objects/execution/start";
import { executionStub } from "../../durable-objects/execution/stub";
import { app } from "../../worker/app";
import { openDb } from "../../worker/db/client";
import { TenantData } from "../../worker/db/tenant-data";
import type { Env } from "../../worker/env";
import type { BareChainObject } from "./floor";
import type { LatchObject } from "./latch";
import type { BenchParams } from "./workflow";

export { ExecutionObject } from "../../durable-objects/execution/object";
export { MetaTools } from "../../worker/agent-code/meta-tools";
export { BareChainObject } from "./floor";
export { LatchObject } from "./latch";
export { BenchWorkflow } from "./workflow";

export interface BenchEnv extends Env {
  BARE: DurableObjectNamespace<BareChainObject>;
  LATCH: DurableObjectNamespace<LatchObject>;
  BENCH_WORKFLOW: Workflow<BenchParams>;
}

interface Shape {
  kind: "chain" | "fanout";
  size: number;
}

async function runFloor(env: BenchEnv, shape: Shape): Promise<void> {
  await env.BARE.get(env.BARE.idFromName(crypto.randomUUID())).run(shape.kind, shape.size);
}

async function runWorkflow(env: BenchEnv, shape: Shape): Promise<void> {
  const latch = crypto.randomUUID();
  const waiting = env.LATCH.get(env.LATCH.idFromName(latch)).wait();
  await env.BENCH_WORKFLOW.create({ params: { ...shape, latch } });
  await waiting;
}

/** Starts an execution for a tenant and answers when it has ended (the caller's view of "done"). */
async function runTroupe(
  env: BenchEnv,
  body: { tenantId: string; orchestrationId: string },
): Promise<string> {
  const data = new TenantData(openDb(env.DB), { tenantId: body.tenantId, principal: "bench" });
  const started = await startExecution(
    data,
    env,
    { orchestrationId: body.orchestrationId, input: {} },
    Date.now(),
  );
  // execute's answer already carries the outcome when the run ended during its start.
  if (isTerminal(started.status)) return started.status;
  return executionStub(env, started.id).waitForEnd();
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname.startsWith("/bench/")) {
      const body = (await request.json()) as Shape & {
        tenantId: string;
        orchestrationId: string;
        executionId: string;
      };
      switch (url.pathname) {
        case "/bench/floor":
          await runFloor(env, body);
          return Response.json({ ok: true });
        case "/bench/workflows":
          await runWorkflow(env, body);
          return Response.json({ ok: true });
        case "/bench/troupe":
          return Response.json({ status: await runTroupe(env, body) });
        case "/bench/troupe/wait":
          return Response.json({ status: await executionStub(env, body.executionId).waitForEnd() });
      }
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
