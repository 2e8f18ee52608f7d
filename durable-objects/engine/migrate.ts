// Reading state written by earlier versions of the engine. Version 1 kept one StepRun per top-level step
// (keyed by its index, the same storage key a top-level instance has now), a stage cursor in the header,
// and no explicit waits. Its records become instances: the id is the index, an open model call gets its
// `call` wait, and the cursor is dropped (the walk derives the same position from the records).
// Pure: no storage, no clock, no network.
import type { InstanceStatus, JsonValue, RunHeader, StepInstance } from "./types";

/** PERSISTED CONTRACT v1 — RunHeader as version 1 wrote it. */
export interface RunHeaderV1 {
  v: 1;
  status: RunHeader["status"];
  input: JsonValue;
  stageCursor: number;
  seq: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  output?: JsonValue;
}

/** PERSISTED CONTRACT v1 — StepRun as version 1 wrote it (one per top-level step). */
export interface StepRunV1 extends Omit<StepInstance, "id" | "wait" | "status"> {
  index: number;
  status: Exclude<InstanceStatus, "waiting">;
}

export function headerFromStored(stored: RunHeader | RunHeaderV1): RunHeader {
  if (stored.v === 2) return stored;
  const { stageCursor: _cursor, v: _version, ...rest } = stored;
  return { ...rest, v: 2 };
}

export function instanceFromStored(stored: StepInstance | StepRunV1): StepInstance {
  if (!("index" in stored)) return stored;
  const { index, ...rest } = stored;
  const instance: StepInstance = { ...rest, id: String(index) };
  const open = instance.attempts.at(-1);
  if (instance.status === "running" && open && !open.outcome)
    instance.wait = { kind: "call", attempt: open.attempt };
  return instance;
}
