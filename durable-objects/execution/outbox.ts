// What an execution owes other execution objects, kept in its outbox until it arrives: starting a child
// (the same id every time, so a repeated start finds the child already there), cancelling one, and
// telling the parent this run ended. The entries are derived from a decision and written in the same
// commit; each receiver takes a repeat as a no-op, so delivering at least once is enough. A start that
// can never succeed (the orchestration is gone, too deep) is answered to the engine as a refused child.
import type { Env } from "../../worker/env";
import { totalSpent } from "../engine/budget";
import { isTerminal } from "../engine/status";
import type { ChildResult, Decision, EngineEvent, RunHeader, StepInstance } from "../engine/types";
import { webhookDispatcher } from "../webhooks/client";
import { approvalEvents, endEvent } from "../webhooks/event";
import type { ConnectionGate } from "./connection-gate";
import type { FaultPoint } from "./fault-points";
import { startChildExecution } from "./start";
import type { ExecutionMeta, ExecutionStore, Loaded, OutboxEntry } from "./store";
import { executionStub } from "./stub";

/** What the outbox needs of its execution object. */
export interface OutboxHost {
  env: Env;
  /** The object's outgoing connections (see connection-gate.ts). */
  gate: ConnectionGate;
  store: ExecutionStore;
  serialized<T>(work: () => Promise<T>): Promise<T>;
  /** Feeds an event to the engine (a refused child). */
  receive(event: EngineEvent): Promise<void>;
  crashAt(point: FaultPoint, loaded: Loaded): void;
  /** Everything owed has arrived (outside an alarm, the alarm is set to what is left to do). */
  outboxEmptied(): Promise<void>;
}

/** `before`: the step records as they were before the decision (an approval that began waiting is news). */
export function owedBy(
  meta: ExecutionMeta,
  decision: Decision,
  before: ReadonlyMap<string, StepInstance> = new Map(),
): OutboxEntry[] {
  const owed: OutboxEntry[] = [];
  for (const event of approvalEvents(meta, decision.header, decision.changed, before))
    owed.push({ type: "notify_webhooks", event });
  for (const command of decision.commands) {
    if (command.type === "start_child" || command.type === "cancel_child") owed.push(command);
    if (command.type === "status_changed" && meta.parent && isTerminal(command.status)) {
      const result = childResultOf(meta.executionId, decision.header);
      owed.push({ type: "notify_parent", parent: meta.parent, executionId: meta.executionId, result });
    }
    if (command.type === "status_changed" && meta.budgetHeldBy && isTerminal(command.status)) {
      const spent = decision.header.usage ? totalSpent(decision.header.usage) : { tokens: 0, costUsd: 0 };
      owed.push({
        type: "release_budget",
        parentId: meta.budgetHeldBy,
        executionId: meta.executionId,
        spent,
      });
    }
    const ended = command.type === "status_changed" ? endEvent(meta, decision.header) : undefined;
    if (ended) owed.push({ type: "notify_webhooks", event: ended });
  }
  return owed;
}

/** How a child run that ended looks to its parent's orchestration step. */
export function childResultOf(
  executionId: string,
  header: Pick<RunHeader, "status" | "output" | "error" | "usage">,
): ChildResult {
  // What it spent counts against the parent's budget (absent from runs that ended before budgets).
  const spent = header.usage ? { spent: totalSpent(header.usage) } : {};
  if (header.status === "completed") return { ok: true, output: header.output ?? null, ...spent };
  const status = header.status === "cancelled" ? "cancelled" : "failed";
  return {
    ok: false,
    status,
    error: {
      kind: status === "cancelled" ? "cancelled" : "provider",
      message: `child execution ${executionId} ${status}: ${header.error ?? "no reason given"}`,
      // A failed child is worth another try (a retry starts a new child); a cancelled one was stopped on purpose.
      retryable: status === "failed",
    },
    ...spent,
  };
}

export class Outbox {
  /** Outbox keys being delivered by this instance right now. */
  private readonly delivering = new Map<string, Promise<void>>();

  constructor(private readonly host: OutboxHost) {}

  /** The deliveries on their way, for an alarm to wait for before it returns. */
  inFlight(): Promise<void>[] {
    return [...this.delivering.values()];
  }

  /**
   * A child cancelled before its start was delivered is simply never started: the owed start is taken
   * back in the same commit instead of racing a cancel against it. The cancel still goes out: a start
   * still owed may have arrived just before a crash kept it from being marked delivered, and cancelling
   * a child that never started changes nothing. A start already on its way is followed by the cancel
   * once it has arrived (see `deliver`).
   */
  takeBackUnstarted(loaded: Loaded, owed: OutboxEntry[]): { owed: OutboxEntry[]; unowed: string[] } {
    const unowed: string[] = [];
    for (const entry of owed) {
      if (entry.type !== "cancel_child") continue;
      const start = startOwed(loaded, entry.executionId);
      if (start !== undefined && !this.delivering.has(start)) unowed.push(start);
    }
    return { owed, unowed };
  }

  /** Starts delivering everything owed that is not already on its way (a cancel waits for its child's start). */
  deliver(loaded: Loaded): void {
    for (const [key, entry] of loaded.outbox) {
      if (this.delivering.has(key)) continue;
      if (entry.type === "cancel_child" && startOwed(loaded, entry.executionId) !== undefined) continue;
      const delivery = (async () => {
        const outcome = await this.host.gate.run(() => deliverOne(this.host.env, loaded.meta, entry));
        if (!outcome.delivered) {
          console.error(
            `execution ${loaded.meta.executionId}: ${entry.type} not delivered, will retry:`,
            outcome.error,
          );
          return;
        }
        this.host.crashAt(entry.type === "notify_parent" ? "parent_notified" : "child_started", loaded);
        await this.host.serialized(() => this.host.store.delivered(key));
        if (outcome.event) await this.host.receive(outcome.event);
        // The retry alarm this delivery needed is not needed any more once nothing is owed.
        else if (loaded.outbox.size === 0) await this.host.outboxEmptied();
      })().finally(() => {
        this.delivering.delete(key);
        // What waited for this delivery (a cancel after its child's start) can go now.
        if (!loaded.outbox.has(key)) this.deliver(loaded);
      });
      this.delivering.set(key, delivery);
    }
  }

  /** Asks each child this run waits for whether it ended, and takes the answer as its notice. */
  async askChildren(loaded: Loaded): Promise<void> {
    const waits = [...loaded.run.instances.values()].flatMap((instance) =>
      instance.wait?.kind === "child" ? [{ instance: instance.id, wait: instance.wait }] : [],
    );
    for (const { instance, wait } of waits) {
      const child = await this.host.gate
        .run(() => executionStub(this.host.env, wait.executionId).status())
        .catch(() => undefined);
      if (!child?.ok || !isTerminal(child.value.status)) continue;
      const result = childResultOf(wait.executionId, {
        status: child.value.status,
        output: child.value.output,
        ...(child.value.error === null ? {} : { error: child.value.error }),
        usage: child.value.usage,
      });
      await this.host.receive({
        type: "child_finished",
        instance,
        attempt: wait.attempt,
        executionId: wait.executionId,
        result,
      });
    }
  }
}

type DeliveryOutcome =
  /** Arrived (or can never arrive and need not): drop it, and feed `event` to the engine if given. */
  | { delivered: true; event?: EngineEvent }
  /** Did not arrive this time: keep it for the next alarm. */
  | { delivered: false; error: string };

async function deliverOne(env: Env, meta: ExecutionMeta, entry: OutboxEntry): Promise<DeliveryOutcome> {
  try {
    switch (entry.type) {
      case "start_child": {
        const started = await startChildExecution(env, meta, entry);
        if (started.ok) return { delivered: true };
        if (!started.final) return { delivered: false, error: started.error };
        const result: ChildResult = {
          ok: false,
          status: "refused",
          error: { kind: "config", message: started.error, retryable: false },
        };
        const { instance, attempt, executionId } = entry;
        return { delivered: true, event: { type: "child_finished", instance, attempt, executionId, result } };
      }
      case "cancel_child": {
        // "no such execution": it never started, so there is nothing to cancel.
        await executionStub(env, entry.executionId).cancel(entry.reason);
        return { delivered: true };
      }
      case "notify_parent": {
        const { parent, executionId, result } = entry;
        const notice = { instance: parent.instance, attempt: parent.attempt, executionId, result };
        await executionStub(env, parent.executionId).childFinished(notice);
        return { delivered: true };
      }
      case "release_budget": {
        // "no such execution": the parent is gone (deleted), and its budget with it.
        const { parentId, executionId, spent } = entry;
        await executionStub(env, parentId).budgetHold({ executionId, release: spent });
        return { delivered: true };
      }
      case "notify_webhooks": {
        // The dispatcher stores the event before it answers; a repeat is a no-op (stable delivery ids).
        const handed = await webhookDispatcher(env, meta.tenantId).enqueue(meta.tenantId, entry.event);
        return handed.ok ? { delivered: true } : { delivered: false, error: handed.error };
      }
      default:
        return entry satisfies never;
    }
  } catch (error) {
    return { delivered: false, error: (error as Error).message };
  }
}

/** The outbox key of the start still owed for child `executionId`, if any. */
function startOwed(loaded: Loaded, executionId: string): string | undefined {
  for (const [key, entry] of loaded.outbox)
    if (entry.type === "start_child" && entry.executionId === executionId) return key;
  return undefined;
}
