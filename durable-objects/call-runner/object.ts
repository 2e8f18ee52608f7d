// Call runners: a pool of Durable Objects per tenant ("<tenant>/<n>", n < CALL_RUNNER_POOL) that make
// the model calls an execution object hands out, so a wide fan-out is not held to that object's six
// outgoing connections: each runner has six of its own. A runner takes a job, answers at once, makes the
// call while it stays up for its pending work, and reports the result (and streamed text on the way) to
// the execution object, which commits a result once however often it arrives. The pool is per tenant,
// so no object ever holds two tenants' calls; it is long-lived, so a fan-out does not pay for creating
// an object per call.
//
// PERSISTED CONTRACT v1 (call runner storage), per job key "<execution>/<instance>/<attempt>":
//   "job:<key>"     CallJob while the attempt is owed
//   "result:<key>"  AttemptResult of a call whose report did not arrive, until it does
// The alarm is the watchdog: it reports stored results again, and makes a call again that a restart of
// this runner cut off, while its deadline holds. Writes here do not hold back the runner's answers and
// messages (allowUnconfirmed): a write lost to a crash within its few ms costs at most one call made
// again, or an attempt that waits for its deadline, never a wrong result; waiting for each write to be
// on disk would cost every hand-off and every report a disk flush.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../worker/env";
import type { AttemptResult } from "../engine/types";
import { type CallJob, callAttempt } from "../execution/attempt-call";
import { CONNECTIONS_PER_INVOCATION, ConnectionGate } from "../execution/connection-gate";
import { executionStub } from "../execution/stub";

/** Runners per tenant. At CALLS_PER_RUNNER each, a tenant has 160 model calls in flight at most. */
export const CALL_RUNNER_POOL = 32;
/** A runner's calls at once: one connection stays free for reporting results. */
export const CALLS_PER_RUNNER = CONNECTIONS_PER_INVOCATION - 1;
/** The watchdog's period while calls run; a result not yet reported is tried again after REPORT_RETRY_MS. */
export const RUNNER_WATCHDOG_MS = 60_000;
export const REPORT_RETRY_MS = 5_000;
/** Streamed text goes to the execution object at most this often per call. */
export const TEXT_INTERVAL_MS = 200;
const UNCONFIRMED = { allowUnconfirmed: true } as const;

export interface RunnerRpc {
  run(jobs: CallJob[], handedBefore?: boolean): Promise<{ ok: true }>;
  abort(key: string, reason: string): Promise<{ ok: true }>;
}

export function jobKey(job: Pick<CallJob, "executionId" | "instance" | "attempt">): string {
  return `${job.executionId}/${job.instance}/${job.attempt}`;
}

export function runnerStub(env: Pick<Env, "CALL_RUNNERS">, tenantId: string, index: number): RunnerRpc {
  const id = env.CALL_RUNNERS.idFromName(`${tenantId}/${index}`);
  return env.CALL_RUNNERS.get(id) as unknown as RunnerRpc;
}

export class CallRunner extends DurableObject<Env> {
  private readonly gate = new ConnectionGate();
  private readonly callSlots = new ConnectionGate(CALLS_PER_RUNNER);
  private readonly running = new Map<string, AbortController>();
  /** Jobs whose call has ended and whose result is on its way to the execution object. */
  private readonly reporting = new Set<string>();
  /** When the alarm this instance last saw or set is due (undefined: not known, or it has fired). */
  private alarmAt: number | undefined;
  private readonly reports = new ReportQueue(
    (executionId, batch) => this.deliver(executionId, batch),
    (work) => this.ctx.waitUntil(work),
  );

  /**
   * Takes jobs (stored in one write before the answer) and starts them. Idempotent: a job already taken
   * (running, or ended and being reported) is not taken again. Only jobs `handedBefore` (by an
   * execution object that restarted, or whose hand-off failed) can be in storage already: a job handed
   * the first time skips that read.
   */
  async run(jobs: CallJob[], handedBefore = true): Promise<{ ok: true }> {
    const fresh = jobs.filter((job) => !this.busyWith(jobKey(job)));
    if (fresh.length === 0) return { ok: true };
    const keys = fresh.flatMap((job) => [`job:${jobKey(job)}`, `result:${jobKey(job)}`]);
    const stored = handedBefore ? await this.ctx.storage.get<unknown>(keys) : new Map<string, unknown>();
    const unseen: Record<string, CallJob> = {};
    for (const job of fresh) if (!stored.has(`job:${jobKey(job)}`)) unseen[`job:${jobKey(job)}`] = job;
    if (Object.keys(unseen).length > 0) await this.ctx.storage.put(unseen, UNCONFIRMED);
    await this.armWatchdog(Date.now() + RUNNER_WATCHDOG_MS);
    for (const job of fresh) {
      const result = stored.get(`result:${jobKey(job)}`) as AttemptResult | undefined;
      if (result) this.report(job, result);
      else this.start(job);
    }
    return { ok: true };
  }

  /** Running its call, or reporting its result: taking the job again would call the model twice. */
  private busyWith(key: string): boolean {
    return this.running.has(key) || this.reporting.has(key);
  }

  private report(job: CallJob, result: AttemptResult): void {
    this.reporting.add(jobKey(job));
    this.reports.add(job, result);
  }

  /** The execution no longer wants the result (the attempt timed out, the run was cancelled). */
  async abort(key: string, reason: string): Promise<{ ok: true }> {
    this.running.get(key)?.abort(reason);
    this.running.delete(key);
    await this.ctx.storage.delete([`job:${key}`, `result:${key}`], UNCONFIRMED);
    return { ok: true };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = undefined;
    const jobs = await this.ctx.storage.list<CallJob>({ prefix: "job:" });
    const results = await this.ctx.storage.list<AttemptResult>({ prefix: "result:" });
    for (const job of jobs.values()) {
      const key = jobKey(job);
      const result = results.get(`result:${key}`);
      if (this.busyWith(key)) continue;
      if (result) this.report(job, result);
      // A call this runner was making when it restarted; past its deadline the execution gave up on it.
      else if (job.deadline > Date.now()) this.start(job);
      else await this.ctx.storage.delete(`job:${key}`, UNCONFIRMED);
    }
    if (jobs.size > 0) await this.armWatchdog(Date.now() + RUNNER_WATCHDOG_MS);
  }

  private start(job: CallJob): void {
    const controller = new AbortController();
    this.running.set(jobKey(job), controller);
    this.ctx.waitUntil(this.perform(job, controller));
  }

  private async perform(job: CallJob, controller: AbortController): Promise<void> {
    const key = jobKey(job);
    const text = new TextRelay(job, this.env, this.gate);
    let result: AttemptResult | undefined;
    try {
      result = await this.callSlots.run(() =>
        this.gate.run(() =>
          callAttempt(
            this.env,
            job,
            controller,
            () => {},
            (sofar) => text.push(sofar),
          ),
        ),
      );
    } finally {
      text.close();
      if (this.running.get(key) === controller) this.running.delete(key);
    }
    // Aborted or past its deadline: the execution has settled the attempt already.
    if (!result || controller.signal.aborted) {
      await this.ctx.storage.delete(`job:${key}`, UNCONFIRMED);
      return;
    }
    this.report(job, result);
  }

  /**
   * Hands results over to their execution object in one RPC; results it did not take are stored, and
   * the alarm tries again.
   */
  private async deliver(executionId: string, batch: Finished[]): Promise<void> {
    const keys = batch.flatMap(({ job }) => [`job:${jobKey(job)}`, `result:${jobKey(job)}`]);
    try {
      await this.handOver(executionId, batch, keys);
    } finally {
      for (const { job } of batch) this.reporting.delete(jobKey(job));
    }
  }

  private async handOver(executionId: string, batch: Finished[], keys: string[]): Promise<void> {
    const reports = batch.map(({ job, result }) => ({
      instance: job.instance,
      attempt: job.attempt,
      result,
    }));
    try {
      const answer = await this.gate.run(() => executionStub(this.env, executionId).attemptResults(reports));
      // "no such execution": nobody will ever want them.
      if (answer.ok || answer.error === "no such execution") {
        await this.ctx.storage.delete(keys, UNCONFIRMED);
        return;
      }
    } catch (error) {
      console.error(
        `call runner: ${batch.length} result(s) for ${executionId} not delivered, will retry:`,
        error,
      );
    }
    const kept: Record<string, AttemptResult> = {};
    for (const { job, result } of batch) kept[`result:${jobKey(job)}`] = result;
    await this.ctx.storage.put(kept, UNCONFIRMED);
    await this.armWatchdog(Date.now() + REPORT_RETRY_MS);
  }

  /** Brings the one alarm forward to `at` (never pushes it back). */
  private async armWatchdog(at: number): Promise<void> {
    // The alarm this instance set is remembered: a busy runner does not read it back for every hand-off.
    if (this.alarmAt !== undefined && this.alarmAt <= at) return;
    const pending = this.alarmAt ?? (await this.ctx.storage.getAlarm());
    if (pending === null || pending > at) {
      await this.ctx.storage.setAlarm(at, UNCONFIRMED);
      this.alarmAt = at;
    } else this.alarmAt = pending;
  }
}

/**
 * Results waiting to be reported, per execution: one report in flight per execution at a time, and
 * whatever finished meanwhile goes in the next one, so a fan-out's results arrive in a few batches.
 */
interface Finished {
  job: CallJob;
  result: AttemptResult;
}

class ReportQueue {
  private readonly waiting = new Map<string, Finished[]>();
  private readonly sending = new Set<string>();

  constructor(
    private readonly deliver: (executionId: string, batch: Finished[]) => Promise<void>,
    private readonly keepAlive: (work: Promise<unknown>) => void,
  ) {}

  add(job: CallJob, result: AttemptResult): void {
    const queue = this.waiting.get(job.executionId) ?? [];
    if (queue.some((queued) => jobKey(queued.job) === jobKey(job))) return;
    queue.push({ job, result });
    this.waiting.set(job.executionId, queue);
    if (!this.sending.has(job.executionId)) this.keepAlive(this.flush(job.executionId));
  }

  private async flush(executionId: string): Promise<void> {
    this.sending.add(executionId);
    try {
      for (let batch = this.take(executionId); batch.length > 0; batch = this.take(executionId))
        await this.deliver(executionId, batch);
    } finally {
      this.sending.delete(executionId);
    }
  }

  private take(executionId: string) {
    const batch = this.waiting.get(executionId) ?? [];
    this.waiting.delete(executionId);
    return batch;
  }
}

/**
 * Streamed text on its way to the execution object: at most one report in flight and one every
 * TEXT_INTERVAL_MS, always the latest text. Best effort: the final result carries all of it.
 */
class TextRelay {
  private latest: string | undefined;
  private sending: Promise<void> | undefined;
  /** From the call's start: a reply that is done within TEXT_INTERVAL_MS sends no partial text at all. */
  private lastSentAt = Date.now();
  private closed = false;

  constructor(
    private readonly job: CallJob,
    private readonly env: Env,
    private readonly gate: ConnectionGate,
  ) {}

  push(text: string): void {
    if (this.closed) return;
    this.latest = text;
    if (!this.sending) this.sending = this.flush();
  }

  /** The reply is complete: text still waiting is dropped. */
  close(): void {
    this.closed = true;
    this.latest = undefined;
  }

  private async flush(): Promise<void> {
    while (this.latest !== undefined) {
      const wait = this.lastSentAt + TEXT_INTERVAL_MS - Date.now();
      if (wait > 0) await scheduler.wait(wait);
      const text = this.latest;
      if (text === undefined) break;
      this.latest = undefined;
      this.lastSentAt = Date.now();
      const { executionId, instance, attempt } = this.job;
      await this.gate
        .run(() => executionStub(this.env, executionId).attemptText({ instance, attempt, text }))
        .catch(() => undefined);
    }
    this.sending = undefined;
  }
}
