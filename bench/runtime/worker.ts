// The benchmark's Worker: Troupe exactly as deployed (same app, same Durable Object) plus the floor
// (a bare alarm chain), the peer (Cloudflare Workflows) and a few timing routes that start a run and
// answer when it has finished. Never deployed: it exists only under bench/wrangler.toml. A shape with
// `http: true` makes the floor and Workflows call the model server that OPENAI_BASE_URL names once per
// step, as Troupe's steps do when their role's model is "openai:<OPENAI_MODEL>".

import { isTerminal } from "../../durable-objects/engine/status";
import { startExecution } from "../../durable-objects/execution/start";
import { executionStub } from "../../durable-objects/execution/stub";
import { governorStub } from "../../durable-objects/governor/client";
import { app } from "../../worker/app";
import { openDb } from "../../worker/db/client";
import { TenantData } from "../../worker/db/tenant-data";
import type { Env } from "../../worker/env";
import type { BareChainObject } from "./floor";
import type { LatchObject } from "./latch";
import type { ModelServerRef } from "./model-call";
import type { BenchParams } from "./workflow";

export { CallRunner } from "../../durable-objects/call-runner/object";
export { ExecutionObject } from "../../durable-objects/execution/object";
export { TenantGovernor } from "../../durable-objects/governor/object";
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
  /** Each step calls the loopback model server once. */
  http?: boolean;
}

function modelServer(env: BenchEnv, shape: Shape): ModelServerRef | undefined {
  if (!shape.http) return undefined;
  if (!env.OPENAI_BASE_URL || !env.OPENAI_MODEL)
    throw new Error("an HTTP shape needs OPENAI_BASE_URL and OPENAI_MODEL (bench/run.ts sets both)");
  return { baseUrl: env.OPENAI_BASE_URL, model: env.OPENAI_MODEL };
}

async function runFloor(env: BenchEnv, shape: Shape): Promise<void> {
  const stub = env.BARE.get(env.BARE.idFromName(crypto.randomUUID()));
  await stub.run(shape.kind, shape.size, modelServer(env, shape));
}

async function runWorkflow(env: BenchEnv, shape: Shape): Promise<void> {
  const latch = crypto.randomUUID();
  const waiting = env.LATCH.get(env.LATCH.idFromName(latch)).wait();
  const model = modelServer(env, shape);
  await env.BENCH_WORKFLOW.create({
    params: { kind: shape.kind, size: shape.size, latch, ...(model ? { model } : {}) },
  });
  await waiting;
}

/**
 * Starts an execution for a tenant and answers when it has ended (the caller's view of "done"), with
 * its id so the caller can look up why a run did not complete.
 */
const UNLIMITED = 1_000_000_000;
const BENCH_PLAN = {
  maxRunningExecutions: UNLIMITED,
  maxExecutionsStartedPerMinute: UNLIMITED,
  requestsPerSecondPerTenant: UNLIMITED,
  requestBurstPerTenant: UNLIMITED,
  requestsPerSecondPerKey: UNLIMITED,
  requestBurstPerKey: UNLIMITED,
};

async function runTroupe(
  env: BenchEnv,
  body: { tenantId: string; orchestrationId: string },
): Promise<{ status: string; executionId: string }> {
  const data = new TenantData(openDb(env.DB), { tenantId: body.tenantId, principal: "bench" }, env);
  const started = await startExecution(
    data,
    env,
    { orchestrationId: body.orchestrationId, input: {} },
    Date.now(),
  );
  // execute's answer already carries the outcome when the run ended during its start.
  if (isTerminal(started.status)) return { status: started.status, executionId: started.id };
  return { status: await executionStub(env, started.id).waitForEnd(), executionId: started.id };
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
          return Response.json(await runTroupe(env, body));
        case "/bench/plan":
          // The bench drives hundreds of runs and requests at once from one tenant: its plan lifts the
          // rate and count limits (the governor is still asked on every request, so its cost is measured).
          await env.DB.prepare("update tenants set plan = ? where id = ?")
            .bind(JSON.stringify(BENCH_PLAN), body.tenantId)
            .run();
          await governorStub(env, body.tenantId).forgetLimits();
          return Response.json({ ok: true });
        case "/bench/troupe/wait":
          return Response.json({ status: await executionStub(env, body.executionId).waitForEnd() });
      }
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
