// The execution Durable Object: a thin durable shell around the pure engine. Every event goes through
// one serialized path — load -> decide -> persist -> perform -> arm the one alarm — and only alarm
// invocations call models, so no model call outlives the alarm's wall-clock limit.
import { DurableObject } from "cloudflare:workers";
import { newId } from "../worker/auth/crypto";
import type { Env } from "../worker/env";
import { callAttempt } from "./attempt-call";
import { decideBatch, decideStart, instantReplies } from "./batch";
import type { Command, EngineEvent, RunHeader, RunStatus } from "./engine/types";
import { MAX_WATCH_MS, type Result, type StartRequest, type WatchToken } from "./execution-rpc";
import { ExecutionStore, type Loaded } from "./execution-store";
import { type FaultPoint, faultAt } from "./fault-points";
import { tryProjectStatus } from "./projection";
import { RunWatchers, TERMINAL } from "./run-watchers";
import { type ExecutionStatus, statusView } from "./status-view";

/**
 * An alarm invocation may run 15 minutes; an attempt starts in this one only if its deadline falls
 * within this budget. It exceeds the largest step timeout (14 min) so a fresh invocation fits any step.
 */
export const INVOCATION_BUDGET_MS = 14.5 * 60 * 1000;
/** Re-armed before any work, so a crashed invocation is picked up again this soon. */
export const WATCHDOG_MS = 60_000;
/** A wake this close is awaited inside the current invocation instead of through a new alarm. */
const INLINE_WAIT_MS = 2_000;
/** A D1 projection that failed is tried again by an alarm this much later. */
export const PROJECTION_RETRY_MS = 30_000;

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

export class ExecutionObject extends DurableObject<Env> {
  private readonly store = new ExecutionStore(this.ctx.storage);
  /** Identifies this instance; attempts started by another (crashed) instance are detected by it. */
  private readonly runner = newId("run");
  private readonly inFlight = new Map<string, InFlight>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers = new RunWatchers();
  /** Replies that arrived while a batch was being decided; the next batch takes them all. */
  private readonly inbox: EngineEvent[] = [];
  private wakeAt: number | undefined;
  private invocationStartedAt: number | undefined;
  /** Set when an attempt was handed to the next alarm: this invocation then only finishes what runs. */
  private deferring = false;

  /**
   * Idempotent: the first call decides the start (steps the local model answers run right here; calls
   * that must go out wait for the alarm), then writes the state in one batch while it writes the index
   * row. Later calls return the status.
   */
  async start(request: StartRequest): Promise<Result<ExecutionStatus>> {
    return this.serialized(async () => {
      if (await this.store.exists()) return this.view();
      const { meta, plan } = request;
      const now = Date.now();
      const instant = instantReplies(this.env, plan);
      const { initial, decision } = decideStart(plan, request.input, now, this.runner, instant);
      const { header } = decision.run;
      this.wakeAt = decision.wakeAt;
      // Set before the state is written, so both land in the same commit.
      if (decision.wakeAt !== undefined) await this.ctx.storage.setAlarm(decision.wakeAt);
      const loaded = { meta, plan, run: decision.run, projected: header.status };
      const [, indexed] = await Promise.all([
        this.store.create(loaded, initial),
        this.tryProject(loaded, header),
      ]);
      if (!indexed) {
        // No row at all: forget the run, so nothing runs that nobody can list.
        if (!request.indexed) return this.abandon("the execution index could not be written");
        // The Worker's "pending" row stands until the retry alarm projects the status.
        await this.store.markProjected("pending");
        await this.armAlarm();
      }
      return this.view();
    });
  }

  /**
   * Answers with the terminal status once the run has ended (at once if it already has). The
   * benchmark times runs with it; the answer is lost if this instance restarts, so callers retry.
   */
  async waitForEnd(): Promise<RunStatus | "unknown"> {
    const loaded = await this.serialized(() => this.store.load());
    if (!loaded) return "unknown";
    if (TERMINAL.includes(loaded.run.header.status)) return loaded.run.header.status;
    return this.watchers.end();
  }

  /**
   * Long-poll for live views: answers with the status as soon as it changes after `seen` (a token from
   * an earlier answer), or after `waitMs` with the status as it is. A token from another instance (the
   * object restarted) is answered at once.
   */
  async watch(
    seen: WatchToken | null,
    waitMs: number,
  ): Promise<Result<{ token: WatchToken; status: ExecutionStatus }>> {
    // The check and the registration happen in one queued turn, so no change can slip between them.
    const waiting = await this.serialized(async () => {
      const loaded = await this.store.load();
      if (!loaded) return undefined;
      const changed = seen === null || seen.runner !== this.runner || seen.revision < this.watchers.revision;
      // Wrapped in an object: returning the promise itself would make this queued turn wait for it.
      if (changed || TERMINAL.includes(loaded.run.header.status)) return { until: Promise.resolve() };
      return { until: this.watchers.nextChange(Math.min(Math.max(waitMs, 0), MAX_WATCH_MS)) };
    });
    if (!waiting) return { ok: false, error: "no such execution" };
    await waiting.until;
    return this.serialized(async () => {
      const view = await this.view();
      const token = { runner: this.runner, revision: this.watchers.revision };
      return view.ok ? { ok: true as const, value: { token, status: view.value } } : view;
    });
  }

  async status(): Promise<Result<ExecutionStatus>> {
    return this.serialized(() => this.view());
  }

  async cancel(reason: string): Promise<Result<ExecutionStatus>> {
    return this.serialized(async () => {
      await this.step({ type: "cancel", reason });
      return this.view();
    });
  }

  /**
   * Used by the sweeper: makes sure a live execution (or one whose D1 row is behind) has an alarm, and
   * re-projects at once when the index row the sweeper read (`indexStatus`) disagrees with this object.
   */
  async ensureAlarm(
    indexStatus?: RunStatus,
  ): Promise<Result<{ status: RunStatus; projected: boolean; armed: boolean }>> {
    return this.serialized(async () => {
      const loaded = await this.store.load();
      if (!loaded) return { ok: false, error: "no such execution" };
      const { status } = loaded.run.header;
      if (indexStatus !== undefined && indexStatus !== status) await this.project(loaded);
      const live = !TERMINAL.includes(status);
      const armed = (live || loaded.projected !== status) && (await this.ctx.storage.getAlarm()) === null;
      if (armed) await this.ctx.storage.setAlarm(Date.now());
      return { ok: true, value: { status, projected: loaded.projected === status, armed } };
    });
  }

  override async alarm(): Promise<void> {
    this.invocationStartedAt = Date.now();
    this.deferring = false;
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
    try {
      await this.serialized(async () => {
        const loaded = await this.store.load();
        if (!loaded) return;
        this.crashAt("alarm_start", loaded);
        await this.step({ type: loaded.run.header.status === "pending" ? "start" : "wake" });
      });
      await this.drain();
    } finally {
      this.invocationStartedAt = undefined;
    }
    await this.serialized(() => this.armAlarm());
  }

  /** Waits for this invocation's attempts, handling wake-ups due meanwhile. */
  private async drain(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const wakeIn = this.wakeAt === undefined ? undefined : this.wakeAt - now;
      if (this.inFlight.size === 0 && (this.deferring || wakeIn === undefined || wakeIn > INLINE_WAIT_MS))
        return;
      if (wakeIn !== undefined && wakeIn <= 0 && !this.deferring) {
        await this.serialized(() => this.step({ type: "wake" }));
        continue;
      }
      const timers: Promise<void>[] = wakeIn === undefined || this.deferring ? [] : [scheduler.wait(wakeIn)];
      await Promise.race([...[...this.inFlight.values()].map((f) => f.done), ...timers]);
    }
  }

  /**
   * One batch: `event` plus every reply queued meanwhile, decided together, saved once, then performed.
   * Must run inside `serialized`.
   */
  private async step(event?: EngineEvent): Promise<Loaded | undefined> {
    const loaded = await this.store.load();
    if (!loaded) return undefined;
    const events = [...(event ? [event] : []), ...this.inbox.splice(0)];
    if (events.length === 0) return loaded;
    const decision = decideBatch(
      loaded.plan,
      loaded.run,
      events,
      Date.now(),
      this.runner,
      instantReplies(this.env, loaded.plan),
    );
    await this.store.save(decision.run);
    this.wakeAt = decision.wakeAt;
    for (const command of decision.commands) this.perform(command, loaded);
    this.watchers.notify(decision.run.header.status);
    if (loaded.projected !== loaded.run.header.status) await this.project(loaded);
    return loaded;
  }

  private perform(command: Command, loaded: Loaded): void {
    switch (command.type) {
      case "call_model":
        this.callModel(command, loaded);
        return;
      case "abort": {
        const key = `${command.step}:${command.attempt}`;
        this.inFlight.get(key)?.controller.abort(command.reason);
        this.inFlight.delete(key);
        return;
      }
      case "status_changed":
        return; // projected after every step whose status differs from D1's
      default:
        command satisfies never;
    }
  }

  private callModel(command: Extract<Command, { type: "call_model" }>, loaded: Loaded): void {
    const key = `${command.step}:${command.attempt}`;
    const controller = new AbortController();
    const budgetEnd = (this.invocationStartedAt ?? 0) + INVOCATION_BUDGET_MS;
    const finish = (event: EngineEvent) => {
      this.inbox.push(event);
      return this.serialized(() => this.step()).then(() => undefined);
    };
    const done = (async () => {
      if (this.deferring || this.invocationStartedAt === undefined || command.deadline > budgetEnd) {
        // Not inside an alarm, or it would outlive this invocation: hand it to a fresh alarm instead.
        this.deferring = true;
        return finish({ type: "attempt_deferred", step: command.step, attempt: command.attempt });
      }
      try {
        const result = await callAttempt(this.env, loaded, command, controller, (point) =>
          this.crashAt(point, loaded),
        );
        if (result)
          await finish({ type: "attempt_finished", step: command.step, attempt: command.attempt, result });
      } finally {
        this.inFlight.delete(key);
      }
    })();
    // An aborted attempt stops counting as in flight at once, even if its provider ignores the signal.
    const aborted = new Promise<void>((resolve) =>
      controller.signal.addEventListener("abort", () => resolve()),
    );
    this.inFlight.set(key, { controller, done: Promise.race([done, aborted]) });
  }

  private crashAt(point: FaultPoint, loaded: Loaded): void {
    const mode = faultAt(loaded.meta.executionId, point);
    if (mode === "abort") this.ctx.abort(`fault injected at ${point}`);
    if (mode === "throw") throw new Error(`fault injected at ${point}`);
  }

  private async project(loaded: Loaded): Promise<void> {
    if (await this.tryProject(loaded, loaded.run.header))
      await this.store.markProjected(loaded.run.header.status);
  }

  /** Writes `header` to the index row; false (logged) when the write failed, to be retried. */
  private tryProject(loaded: Loaded, header: RunHeader): Promise<boolean> {
    return tryProjectStatus(this.env.DB, loaded.meta, header, () =>
      this.crashAt("before_projection", loaded),
    );
  }

  /** One alarm: the engine's next wake-up, or a retry of a D1 projection that failed. */
  private async armAlarm(): Promise<void> {
    const loaded = await this.store.load();
    // No state (its start never landed): drop the watchdog, or it would wake this empty object forever.
    if (!loaded) return this.ctx.storage.deleteAlarm();
    if (loaded.projected !== loaded.run.header.status) await this.project(loaded);
    const pendingProjection = loaded.projected !== loaded.run.header.status;
    const at = this.wakeAt ?? (pendingProjection ? Date.now() + PROJECTION_RETRY_MS : undefined);
    if (at === undefined) await this.ctx.storage.deleteAlarm();
    // Never due already: an alarm set from inside alarm() for a time that has passed may never fire
    // (local workerd drops it when the handler returns; see workerd#6866). A wake 1 ms late costs nothing.
    else await this.ctx.storage.setAlarm(Math.max(at, Date.now() + 1));
  }

  /**
   * Forgets a start whose index row could not be written, so no run goes on that nobody can list. What
   * ran so far were local replies (pure; calls that go out wait for an alarm), so nothing is lost.
   */
  private async abandon(reason: string): Promise<Result<ExecutionStatus>> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.store.forget();
    this.wakeAt = undefined;
    return { ok: false, error: reason };
  }

  private async view(): Promise<Result<ExecutionStatus>> {
    const loaded = await this.store.load();
    return loaded ? { ok: true, value: statusView(loaded) } : { ok: false, error: "no such execution" };
  }

  /** Runs `work` after everything queued before it; keeps the queue alive when one fails. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
