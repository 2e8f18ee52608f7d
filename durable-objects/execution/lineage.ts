// An execution's place in its tree of runs, for the execution object: who it is to a run its agent code
// starts (tenant, depth, status, the root's principal), and the cancel that reaches every run it started.
// Reads the D1 index and calls other execution objects; decides nothing about the run itself.
import { openDb } from "../../worker/db/client";
import { ExecutionIndex, type ExecutionRow } from "../../worker/db/executions";
import type { Env } from "../../worker/env";
import type { RunStatus } from "../engine/types";
import type { ConnectionGate } from "./connection-gate";
import type { ExecutionMeta } from "./store";
import { executionStub } from "./stub";

export interface RunLineage {
  tenantId: string;
  depth: number;
  status: RunStatus;
  rootPrincipal?: string;
}

/** Who started the root of this run's tree; a run from before the field existed knows it only at the root. */
export function rootPrincipalOf(meta: ExecutionMeta): string | undefined {
  if (meta.rootPrincipal) return meta.rootPrincipal;
  return meta.parent || meta.startedFrom ? undefined : meta.createdBy;
}

const PAGE = 100;
const ANCESTOR = /^ancestor execution \S+ was cancelled: /;

/**
 * Cancels every live run `meta`'s run started — its children and the runs its agent code started —
 * each of which does the same for its own before it answers, so one cancel reaches the whole tree (at
 * most maxRunDepth deep). Children the engine waits for also get a cancel from the outbox; a second
 * one changes nothing. A crash midway leaves the rest running: cancelling again (or `cancelAll`) goes on.
 */
export async function cancelDescendants(
  env: Env,
  gate: ConnectionGate,
  meta: ExecutionMeta,
  reason: string,
): Promise<number> {
  const index = new ExecutionIndex(openDb(env.DB), {
    tenantId: meta.tenantId,
    principal: `execution:${meta.executionId}`,
  });
  // The root's reason travels down unchanged, so a deep run's error names where the cancel came from.
  const why = ANCESTOR.test(reason)
    ? reason
    : `ancestor execution ${meta.executionId} was cancelled: ${reason}`;
  let cancelled = 0;
  let after: ExecutionRow | undefined;
  for (;;) {
    const page = await gate.run(() =>
      index.live({ parentExecutionId: meta.executionId, limit: PAGE, ...(after ? { after } : {}) }),
    );
    const results = await Promise.all(
      page.map((row) =>
        gate
          .run(() => executionStub(env, row.id).cancel(why))
          .then((result) => result.ok)
          .catch((error: Error) => {
            console.error(`execution ${meta.executionId}: cancelling ${row.id} failed:`, error.message);
            return false;
          }),
      ),
    );
    cancelled += results.filter(Boolean).length;
    after = page.at(-1);
    if (page.length < PAGE) return cancelled;
  }
}
