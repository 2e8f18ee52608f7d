// Version-1 execution state (test/fixtures/v1-execution-storage.json: storage exactly as the engine before
// the graph engine wrote it) planted in a new execution object of a fresh tenant, with the index row that
// engine kept in D1, as if the run had been in flight when the new code shipped.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { WATCHDOG_MS } from "../../durable-objects/execution/object";
import type { OrchestrationInput } from "../../worker/schemas/orchestration";
import fixtures from "../fixtures/v1-execution-storage.json";
import { newTenant } from "./client";
import { executionObject, StepModel } from "./crash";

export type V1Situation = "chainHeldAtB" | "fanOutHeldAtM3" | "waitingRetry" | "chainCompleted";

/** The parts of version-1 storage the rewrite touches; everything else is planted as captured. */
interface V1Entries {
  header: {
    status: string;
    createdAt: number;
    startedAt?: number;
    finishedAt?: number;
    error?: string;
    output?: unknown;
  };
  meta: {
    executionId: string;
    tenantId: string;
    orchestrationId: string;
    orchestrationName: string;
    createdBy: string;
  };
  plan: {
    executionId: string;
    steps: OrchestrationInput["steps"];
    roles: Record<string, { id: string; hyperparameters: { model?: string } }>;
  };
  projected: string;
  [key: string]: unknown;
}

interface V1Storage {
  model: string;
  alarm: number | null;
  entries: V1Entries;
}

/**
 * Plants `situation` for a fresh tenant: its role "Worker" answered by a new StepModel, an orchestration
 * with the captured definition, and the captured storage rewritten to them (tenant, execution id,
 * orchestration, the role's id and model). A captured alarm is set a watchdog's length from now: its
 * recorded time has passed, and a past alarm would fire before the test could run it.
 */
export async function plantV1Execution(situation: V1Situation) {
  const captured = (fixtures as unknown as Record<V1Situation, V1Storage>)[situation];
  const entries = structuredClone(captured.entries);
  const { trpc, tenant, user } = await newTenant("v1-state");
  const model = new StepModel();
  const role = await trpc.role.create.mutate({
    name: "Worker",
    basePrompt: "You are a worker.",
    hyperparameters: { model: model.model },
  });
  const orchestration = await trpc.orchestrationManagement.create.mutate({
    name: entries.meta.orchestrationName,
    steps: entries.plan.steps,
  });
  const executionId = `exe_v1_${crypto.randomUUID().replaceAll("-", "")}`;
  Object.assign(entries.meta, {
    executionId,
    tenantId: tenant.id,
    orchestrationId: orchestration.id,
    createdBy: `user:${user.id}`,
  });
  entries.plan.executionId = executionId;
  for (const snapshot of Object.values(entries.plan.roles)) {
    snapshot.id = role.id;
    snapshot.hyperparameters.model = model.model;
  }
  await runInDurableObject(executionObject(executionId), async (_, state) => {
    await state.storage.put(entries);
    if (captured.alarm !== null) await state.storage.setAlarm(Date.now() + WATCHDOG_MS);
  });
  await insertIndexRow(entries, orchestration.version);
  return { trpc, model, executionId, entries };
}

/** The executions row as the version-1 engine left it (its last projection). */
async function insertIndexRow(entries: V1Entries, version: number): Promise<void> {
  const { meta, header } = entries;
  await env.DB.prepare(
    `insert into executions (id, tenant_id, orchestration_id, orchestration_name, orchestration_version, status,
       error, created_by, created_at, started_at, finished_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      meta.executionId,
      meta.tenantId,
      meta.orchestrationId,
      meta.orchestrationName,
      version,
      entries.projected,
      header.error ?? null,
      meta.createdBy,
      header.createdAt,
      header.startedAt ?? null,
      header.finishedAt ?? null,
      header.finishedAt ?? header.startedAt ?? header.createdAt,
    )
    .run();
}

/** The captured final header of the completed chain: what a v1 chain that finishes now must end with. */
export function capturedChainEnd(): V1Entries["header"] {
  return (fixtures as unknown as Record<V1Situation, V1Storage>).chainCompleted.entries.header;
}
