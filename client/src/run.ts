// Running an orchestration and following it to its end: execute, then the watchExecution subscription
// (Server-Sent Events), with getExecutionStatus as the fallback whenever the stream drops or ends early.
// Resolves with the final status; never cancels the run itself (aborting only stops the watching).
import type { TroupeApi } from "./client.ts";
import { apiErrorOf } from "./errors.ts";
import { type Budget, type ExecutionStatus, isTerminal, type StepLog } from "./types.ts";

export interface StepChange {
  step: StepLog;
  /** The same step as last reported, or undefined the first time it is seen. */
  previous: StepLog | undefined;
  /** The whole status the change came with. */
  execution: ExecutionStatus;
}

export interface WatchOptions {
  /** Called for every step instance whose status, attempt, wait or spending changed (and once when first seen). */
  onStep?: (change: StepChange) => void;
  /** Called with every status received, changed or not. */
  onStatus?: (status: ExecutionStatus) => void;
  /** Stops watching (the run goes on); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Reconnection attempts in a row that may fail before giving up (default 10). */
  maxReconnects?: number;
}

export interface RunOptions extends WatchOptions {
  /** This run's budget; where the orchestration has one too, the smaller wins per field. */
  budget?: Budget;
  /** A repeated key answers the execution it started instead of starting another. */
  idempotencyKey?: string;
  /** Runs this version of the definition instead of the current one. */
  version?: number;
}

/** What makes a step worth reporting again. */
function changeKey(step: StepLog): string {
  return JSON.stringify([
    step.status,
    step.waitingForRetry,
    step.attempts.length,
    step.wait?.kind ?? null,
    step.spent.tokens,
    step.spent.costUsd,
  ]);
}

/** Reports step changes of successive statuses; remembers what it reported last. */
export function stepReporter(onStep: WatchOptions["onStep"]) {
  const seen = new Map<string, { key: string; step: StepLog }>();
  return (execution: ExecutionStatus) => {
    for (const step of execution.stepLogs) {
      const key = changeKey(step);
      const last = seen.get(step.id);
      if (last?.key === key) continue;
      seen.set(step.id, { key, step });
      onStep?.({ step, previous: last?.step, execution });
    }
  };
}

/** Starts `orchestration` (an id or a name) with `input` and resolves with its final status. */
export async function run(
  client: TroupeApi,
  orchestration: string,
  input: unknown,
  options: RunOptions = {},
): Promise<ExecutionStatus> {
  options.signal?.throwIfAborted();
  const started = await client.orchestrationManagement.execute.mutate(
    {
      orchestrationId: orchestration,
      input: input as never,
      ...(options.budget ? { budget: options.budget } : {}),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      ...(options.version ? { version: options.version } : {}),
    },
    { signal: options.signal },
  );
  return followExecution(client, started, options);
}

/** Follows an execution already started (or any execution by id) to its final status. */
export async function watchExecution(
  client: TroupeApi,
  executionId: string,
  options: WatchOptions = {},
): Promise<ExecutionStatus> {
  const status = await client.orchestrationManagement.getExecutionStatus.query(
    { executionId },
    { signal: options.signal },
  );
  return followExecution(client, status, options);
}

async function followExecution(
  client: TroupeApi,
  first: ExecutionStatus,
  options: WatchOptions,
): Promise<ExecutionStatus> {
  const report = stepReporter(options.onStep);
  const receive = (status: ExecutionStatus) => {
    options.onStatus?.(status);
    report(status);
  };
  receive(first);
  let latest = first;
  let failures = 0;
  const maxReconnects = options.maxReconnects ?? 10;
  while (!isTerminal(latest.status)) {
    options.signal?.throwIfAborted();
    const ended = await streamOnce(client, latest.id, receive, options.signal);
    if (ended.status) latest = ended.status;
    if (isTerminal(latest.status)) break;
    // The stream ended or failed before a final status: read the status, then listen again.
    try {
      latest = await client.orchestrationManagement.getExecutionStatus.query(
        { executionId: latest.id },
        { signal: options.signal },
      );
      receive(latest);
      failures = ended.error ? failures + 1 : 0;
    } catch (error) {
      options.signal?.throwIfAborted();
      const apiError = apiErrorOf(error);
      if (apiError && apiError.code !== "UNREACHABLE" && apiError.code !== "TOO_MANY_REQUESTS") throw error;
      failures += 1;
      if (failures > maxReconnects) throw error;
    }
    if (failures > maxReconnects) throw ended.error ?? new Error("the status stream kept failing");
    if (isTerminal(latest.status)) break;
    await delay(failures > 0 ? Math.min(500 * 2 ** (failures - 1), 5000) : 250, options.signal);
  }
  return latest;
}

interface StreamEnd {
  /** The last status the stream gave. */
  status?: ExecutionStatus;
  /** Why it ended, when it was not the run's end. */
  error?: unknown;
}

/** One watchExecution subscription: resolves when it ends (final status, completion, error or abort). */
function streamOnce(
  client: TroupeApi,
  executionId: string,
  receive: (status: ExecutionStatus) => void,
  signal: AbortSignal | undefined,
): Promise<StreamEnd> {
  return new Promise((resolve) => {
    let last: ExecutionStatus | undefined;
    let settled = false;
    const finish = (end: StreamEnd) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      subscription.unsubscribe();
      resolve({ ...end, status: end.status ?? last });
    };
    const onAbort = () => finish({ error: signal?.reason });
    const subscription = client.orchestrationManagement.watchExecution.subscribe(
      { executionId },
      {
        onData: (status) => {
          last = status;
          receive(status);
          if (isTerminal(status.status)) finish({ status });
        },
        onError: (error) => finish({ error }),
        onComplete: () => finish({}),
        onConnectionStateChange: (state) => {
          // The EventSource reconnects by itself; a lost connection still ends this try, so the
          // status is read once over plain HTTP and nothing is missed while the stream was away.
          if (state.state === "connecting" && state.error) finish({ error: state.error });
        },
      },
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
