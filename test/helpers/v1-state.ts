// Execution state written by an earlier version of the code, captured as storage.list() returned it, planted
// in a new execution object of a fresh tenant with the index row that version kept in D1, as if the run had
// been in flight when the new code shipped. Version 1 (test/fixtures/v1-execution-storage.json: storage
// exactly as the engine before the graph engine wrote it) is planted here; version 2 through
// test/helpers/v2-state.ts, on the same `plantCapturedExecution`.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { isTerminal } from "../../durable-objects/engine/status";
import { WATCHDOG_MS } from "../../durable-objects/execution/object";
import { type ExecutionStatus, statusView } from "../../durable-objects/execution/status-view";
import { ExecutionStore } from "../../durable-objects/execution/store";
import type { OrchestrationInput } from "../../worker/schemas/orchestration";
import fixtures from "../fixtures/v1-execution-storage.json";
import { newTenant, type TestClient } from "./client";
import { executionObject, pendingAlarm, StepModel } from "./crash";
import { waitForEnd } from "./executions";

export type V1Situation = "chainHeldAtB" | "fanOutHeldAtM3" | "waitingRetry" | "chainCompleted";

/** The parts of captured storage (either version) the rewrite touches; everything else is planted as captured. */
export interface CapturedEntries {
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

/** One captured situation: the model its role used, the pending alarm, and every storage entry. */
export interface CapturedStorage {
  model: string;
  alarm: number | null;
  /** When the entries were listed (Date.now() inside the object); recorded from version 2 on. */
  capturedAt?: number;
  entries: CapturedEntries;
}

export interface PlantOptions {
  /** Prefix of the tenant's label and of the new execution id ("v1" gives "exe_v1_..."). */
  tag: string;
  /**
   * Moves every time the run recorded so that the capture happened this long before now (needs
   * `capturedAt`). Without it times stay as captured: long past by the time a test runs.
   */
  writtenAgoMs?: number;
}

/**
 * Plants `captured` for a fresh tenant: its role "Worker" answered by a new StepModel, an orchestration
 * with the captured definition, and the captured storage rewritten to them: every occurrence of the
 * captured tenant, execution, orchestration, user and role ids and of the captured model (in the meta,
 * the plan, attempt usage, approval decisions...) is replaced by the new one. A captured alarm is set a
 * watchdog's length from now: its recorded time has passed, and a past alarm would fire before the test
 * could run it.
 */
export async function plantCapturedExecution(captured: CapturedStorage, options: PlantOptions) {
  const { trpc, tenant, user } = await newTenant(`${options.tag}-state`);
  const model = new StepModel();
  const role = await trpc.role.create.mutate({
    name: "Worker",
    basePrompt: "You are a worker.",
    hyperparameters: { model: model.model },
  });
  const orchestration = await trpc.orchestrationManagement.create.mutate({
    name: captured.entries.meta.orchestrationName,
    steps: captured.entries.plan.steps,
  });
  const executionId = `exe_${options.tag}_${crypto.randomUUID().replaceAll("-", "")}`;
  const { meta, plan } = captured.entries;
  const renames = new Map<string, string>([
    [meta.executionId, executionId],
    [meta.tenantId, tenant.id],
    [meta.orchestrationId, orchestration.id],
    [meta.createdBy.replace(/^user:/, ""), user.id],
    [captured.model, model.model],
    ...Object.values(plan.roles).map((snapshot): [string, string] => [snapshot.id, role.id]),
  ]);
  const entries = renamed(captured.entries, renames);
  if (options.writtenAgoMs !== undefined) {
    if (captured.capturedAt === undefined) throw new Error("writtenAgoMs needs the capture's capturedAt");
    shiftTimes(entries, Date.now() - options.writtenAgoMs - captured.capturedAt);
  }
  await runInDurableObject(executionObject(executionId), async (_, state) => {
    await state.storage.put(entries);
    if (captured.alarm !== null) await state.storage.setAlarm(Date.now() + WATCHDOG_MS);
  });
  await insertIndexRow(entries, orchestration.version);
  return { trpc, model, executionId, entries, userId: user.id };
}

/** A deep copy of `entries` with every string occurrence of each key of `renames` replaced by its value. */
function renamed(entries: CapturedEntries, renames: Map<string, string>): CapturedEntries {
  let text = JSON.stringify(entries);
  for (const [from, to] of renames) text = text.replaceAll(from, to);
  return JSON.parse(text) as CapturedEntries;
}

type Times = Record<string, unknown>;

/** Moves the recorded times of the header and of every step record (attempts, retries, waits) by `delta`. */
function shiftTimes(entries: CapturedEntries, delta: number): void {
  const shift = (record: Times | undefined, keys: string[]) => {
    for (const key of keys)
      if (record && typeof record[key] === "number") record[key] = (record[key] as number) + delta;
  };
  shift(entries.header, ["createdAt", "startedAt", "finishedAt"]);
  for (const [key, value] of Object.entries(entries)) {
    if (!key.startsWith("step:")) continue;
    const record = value as Times & { attempts?: Times[]; wait?: Times };
    shift(record, ["retryAt"]);
    shift(record.wait, ["since", "deadline", "until"]);
    for (const attempt of record.attempts ?? []) shift(attempt, ["startedAt", "deadline", "endedAt"]);
  }
}

/** The executions row as the capturing code left it (its last projection). */
async function insertIndexRow(entries: CapturedEntries, version: number): Promise<void> {
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

/** Plants version-1 `situation` (times as captured). */
export function plantV1Execution(situation: V1Situation) {
  const captured = (fixtures as unknown as Record<V1Situation, CapturedStorage>)[situation];
  return plantCapturedExecution(captured, { tag: "v1" });
}

/** The captured final header of the completed chain: what a v1 chain that finishes now must end with. */
export function capturedChainEnd(): CapturedEntries["header"] {
  return (fixtures as unknown as Record<V1Situation, CapturedStorage>).chainCompleted.entries.header;
}

/**
 * A planted run is listed as running, then, once `runToEnd` has finished it, with the status and end
 * time it ended with.
 */
export async function expectListedUntilEnd(planted: Planted, orchestrationName: string): Promise<void> {
  const listed = () => planted.trpc.orchestrationManagement.listExecutions.query({});
  expect((await listed()).items).toEqual([
    expect.objectContaining({ id: planted.executionId, status: "running", parentExecutionId: null }),
  ]);
  const end = await runToEnd(planted);
  expect(isTerminal(end.status)).toBe(true);
  expect((await listed()).items).toEqual([
    expect.objectContaining({
      id: planted.executionId,
      status: "completed",
      finishedAt: end.finishedAt,
      orchestrationName,
    }),
  ]);
}

interface Planted {
  executionId: string;
  trpc: TestClient;
}

/** Runs the planted execution's pending alarm on a fresh instance and waits for the run to end. */
export async function runToEnd(planted: Planted): Promise<ExecutionStatus> {
  expect(await pendingAlarm(planted.executionId)).not.toBeNull();
  await runDurableObjectAlarm(executionObject(planted.executionId));
  return waitForEnd(planted.trpc, planted.executionId);
}

/** The object's storage after the run: raw records by key, and the state a new store reads from them. */
export function storedState(executionId: string) {
  return runInDurableObject(executionObject(executionId), async (_, state) => {
    const raw = await state.storage.list<Record<string, unknown>>();
    const loaded = await new ExecutionStore(state.storage).load();
    return { raw, view: loaded ? statusView(loaded) : undefined };
  });
}
