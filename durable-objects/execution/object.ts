// The execution Durable Object: a thin durable shell around the pure engine. Every event goes through
// one serialized path — load -> decide -> persist -> perform -> arm the one alarm. A few model calls run
// here, the rest in call runner objects (calls.ts); every outgoing connection goes through one gate of
// production's six. What the object owes other objects (child starts and cancels, the notice to its
// parent) is written with the decision that owes it and delivered until it arrives.
import { DurableObject } from "cloudflare:workers";
import { newId } from "../../worker/auth/crypto";
import type { Env } from "../../worker/env";
import { approvalTarget } from "../engine/approval";
import { heldBudget } from "../engine/budget";
import { decide, initialRun } from "../engine/decide";
import { isTerminal } from "../engine/status";
import type { Budget, Command, DecideContext, EngineEvent, RunHeader, RunStatus } from "../engine/types";
import { governorStub } from "../governor/client";
import { withoutIdleWebhooks } from "../webhooks/owed";
import { AlarmClock } from "./alarm-clock";
import { CallsInFlight } from "./calls";
import { ConnectionGate } from "./connection-gate";
import { type FaultPoint, faultAt } from "./fault-points";
import { tryProjectStatus } from "./index-row";
import { instantReplies } from "./instant";
import { cancelDescendants, type RunLineage, rootPrincipalOf } from "./lineage";
import { Outbox, owedBy } from "./outbox";
import {
  type ApprovalRequest,
  type AttemptReport,
  type AttemptText,
  type BudgetHoldRequest,
  type ChildNotice,
  MAX_WATCH_MS,
  type Result,
  type StartRequest,
  type WatchToken,
} from "./rpc";
import { type ExecutionStatus, statusView } from "./status-view";
import { ExecutionStore, type Loaded } from "./store";
import { RunWatchers } from "./watchers";

/** Re-armed before any work, so a crashed invocation is picked up again this soon. */
export const WATCHDOG_MS = 60_000;
/** A D1 projection that failed is tried again by an alarm this much later. */
export const PROJECTION_RETRY_MS = 30_000;
/** A delivery to another object that failed is tried again by an alarm this much later. */
export const DELIVERY_RETRY_MS = 5_000;
/** How long a reply waits for the replies of the other calls running here, to be decided with them. */
export const COALESCE_MS = 4;

/** Past the tenant's running cap, `queued`: store and index the run, start it when the governor releases it. */
export type QueueableStart = StartRequest & { queued?: boolean };

/** Alarm invocations started in this isolate (tests read it to prove a path needs none). */
let alarmsStarted = 0;
export const alarmInvocations = (): number => alarmsStarted;
let decisionsMade = 0;
/** Decisions taken (each one save) by every execution object in this isolate; tests read it. */
export const decisionsTaken = (): number => decisionsMade;

export class ExecutionObject extends DurableObject<Env> {
  private readonly store = new ExecutionStore(this.ctx.storage);
  /** Identifies this instance; model calls started by another (crashed) instance are detected by it. */
  private readonly runner = newId("run");
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers = new RunWatchers();
  /** Events that arrived while a decision was being made (replies, deliveries); the next step takes them all. */
  private readonly inbox: EngineEvent[] = [];
  private readonly gate = new ConnectionGate();
  private readonly clock = new AlarmClock(this.ctx.storage);
  private readonly calls = new CallsInFlight({
    env: this.env,
    gate: this.gate,
    crashAt: (point, loaded) => this.crashAt(point, loaded),
    receive: (event) => this.receive(event),
    textChanged: () => this.watchers.textChanged(() => this.store.peek()?.run.header.status),
    retrySoon: () => void this.serialized(() => this.armNoLaterThan(Date.now() + DELIVERY_RETRY_MS)),
  });
  private readonly outbox = new Outbox({
    env: this.env,
    gate: this.gate,
    store: this.store,
    serialized: (work) => this.serialized(work),
    receive: (event) => this.receive(event),
    crashAt: (point, loaded) => this.crashAt(point, loaded),
    outboxEmptied: () =>
      this.serialized(() => (this.calls.inInvocation() ? Promise.resolve() : this.armAlarm())),
  });
  private wakeAt: number | undefined;
  /** The step that will take the replies arriving now, while it waits for more (see `receive`). */
  private coalescing: Promise<void> | undefined;

  /**
   * Idempotent: the first call decides the start (steps the local model answers run right here;
   * deliveries wait for the alarm), then writes the state in one commit while it writes the index row,
   * then makes the calls that go out (here or through runners). Later calls return the status.
   */
  async start(request: QueueableStart): Promise<Result<ExecutionStatus>> {
    return this.serialized(async () => {
      if (await this.store.exists()) return this.view();
      if (request.queued) {
        if (!(await this.store.releasedEarly())) return this.createQueued(request);
        await this.store.unqueue();
      }
      const { meta, plan } = request;
      const now = Date.now();
      let decision = decide(plan, initialRun(request.input, now), [{ type: "start" }], this.inputs(now), {
        instant: instantReplies(this.env, plan),
        dispatch: this.calls.placement(plan, meta.tenantId),
      });
      // Storage could not take it (a record over one value's limit): the run starts failed, nothing else kept.
      const refused = this.store.refusal(decision);
      if (refused)
        decision = decide(
          plan,
          initialRun(request.input, now),
          [{ type: "start" }, { type: "fail", reason: refused.message }],
          this.inputs(now),
        );
      // A start released from the queue may be minutes old: its webhook hint is not trusted then.
      const webhooks = request.queued ? undefined : request.webhooks;
      const owed = await withoutIdleWebhooks(
        this.env,
        this.gate,
        meta.tenantId,
        owedBy(meta, decision),
        webhooks,
      );
      this.wakeAt = decision.wakeAt;
      const alarmAt =
        owed.length > 0 ? now : earliest(decision.wakeAt, this.watchdogFor(decision.commands, now));
      // Set before the state is written, so both land in the same commit.
      if (alarmAt !== undefined) await this.clock.set(alarmAt);
      const state = { meta, plan, projected: decision.header.status };
      const [loaded, indexed] = await Promise.all([
        this.store.create(state, decision, owed),
        this.tryProject(meta, decision.header),
      ]);
      if (!indexed) {
        // No row at all: forget the run, so nothing runs that nobody can list.
        if (!request.indexed) return this.abandon("the execution index could not be written");
        // The Worker's "pending" row stands until the retry alarm projects the status.
        await this.store.markProjected("pending");
        await this.armAlarm();
      }
      this.perform(decision.commands, loaded);
      return this.view();
    });
  }

  /**
   * A start past the tenant's running cap: the run is stored and indexed "pending", marked queued, with
   * no alarm, so nothing runs until the governor calls `release`.
   */
  private async createQueued(request: QueueableStart): Promise<Result<ExecutionStatus>> {
    const { meta, plan } = request;
    const now = Date.now();
    const decision = { header: initialRun(request.input, now).header, changed: [], commands: [] };
    const state = { meta, plan, projected: decision.header.status, queued: now };
    const [, indexed] = await Promise.all([
      this.store.create(state, decision, []),
      this.tryProject(meta, decision.header),
    ]);
    if (!indexed) {
      if (!request.indexed) return this.abandon("the execution index could not be written");
      await this.store.markProjected("pending");
    }
    return this.view();
  }

  /**
   * The tenant's governor lets a queued run start: the flag goes and the alarm starts it at once.
   * "started" for a run that was released already (or whose queued start has not arrived: it will run
   * at once), "ended" for one that ended while it waited (cancelled).
   */
  async release(): Promise<Result<"started" | "ended">> {
    return this.serialized(async () => {
      const loaded = await this.store.load();
      if (!loaded) {
        await this.store.markReleasedEarly();
        return { ok: true, value: "started" };
      }
      if (isTerminal(loaded.run.header.status)) {
        if (loaded.queued !== undefined) await this.store.unqueue();
        return { ok: true, value: "ended" };
      }
      if (loaded.queued !== undefined) {
        await this.clock.set(Date.now());
        await this.store.unqueue();
        this.watchers.notify(loaded.run.header.status);
      }
      return { ok: true, value: "started" };
    });
  }

  /**
   * Answers with the terminal status once the run has ended (at once if it already has). The
   * benchmark times runs with it; the answer is lost if this instance restarts, so callers retry.
   */
  async waitForEnd(): Promise<RunStatus | "unknown"> {
    const loaded = await this.serialized(() => this.store.load());
    if (!loaded) return "unknown";
    if (isTerminal(loaded.run.header.status)) return loaded.run.header.status;
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
      if (changed || isTerminal(loaded.run.header.status)) return { until: Promise.resolve() };
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

  /** Cancels this run, then every live run it started (see `cancelDescendants`). */
  async cancel(reason: string): Promise<Result<ExecutionStatus>> {
    const cancelled = await this.serialized(async () => {
      await this.step({ type: "cancel", reason });
      return this.view();
    });
    const meta = this.store.peek()?.meta;
    if (cancelled.ok && meta) await cancelDescendants(this.env, this.gate, meta, reason);
    return cancelled;
  }

  /** Who this run is, for a run its agent code starts (admission.ts): tenant, depth, status, root. */
  async lineage(): Promise<Result<RunLineage>> {
    return this.serialized(async () => {
      const loaded = await this.store.load();
      if (!loaded) return { ok: false, error: "no such execution" };
      const { meta } = loaded;
      const rootPrincipal = rootPrincipalOf(meta);
      const value = { tenantId: meta.tenantId, depth: meta.depth ?? 0, status: loaded.run.header.status };
      return { ok: true, value: rootPrincipal ? { ...value, rootPrincipal } : value };
    });
  }

  /**
   * Deletes everything this object stores (`execution.delete`, retention, a deleted tenant). A live run
   * is refused; so is an ended one still owing a delivery (its parent's notice) unless `force`d — the
   * retention sweep forces, weeks after the end. Deleting what is already gone is ok.
   */
  async purge(force = false): Promise<Result<null>> {
    return this.serialized(async () => {
      const loaded = await this.store.load();
      if (loaded) {
        const { status } = loaded.run.header;
        if (!isTerminal(status))
          return { ok: false, code: "CONFLICT", error: `the execution is ${status}; cancel it first` };
        if (loaded.outbox.size > 0 && !force)
          return {
            ok: false,
            code: "CONFLICT",
            error: "the execution is still telling others it ended; try again in a minute",
          };
      }
      await this.clock.clear();
      await this.ctx.storage.deleteAll();
      this.store.forget();
      this.wakeAt = undefined;
      return { ok: true, value: null };
    });
  }

  /** Continues a failed or cancelled run from what failed or was cancelled; completed outputs stay. */
  async resume(): Promise<Result<ExecutionStatus>> {
    return this.serialized(async () => {
      const loaded = await this.store.load();
      if (!loaded) return { ok: false, error: "no such execution" };
      const { status } = loaded.run.header;
      if (status !== "failed" && status !== "cancelled") {
        const error = `the execution is ${status}; only a failed or cancelled execution can be resumed`;
        return { ok: false, code: "PRECONDITION_FAILED", error };
      }
      await this.step({ type: "resume" });
      return this.view();
    });
  }

  /** Decides a waiting approval step; refuses (changing nothing) a step that is not waiting. */
  async approve(request: ApprovalRequest): Promise<Result<ExecutionStatus>> {
    return this.serialized(async () => {
      const loaded = await this.store.load();
      if (!loaded) return { ok: false, error: "no such execution" };
      const target = approvalTarget(loaded.plan, loaded.run, request.stepName, request.instanceId);
      if (!target.ok) {
        const { code, message, field } = target;
        return { ok: false, code, error: message, ...(field ? { field } : {}) };
      }
      const { approved, comment, data, by } = request;
      const decision = { approved, comment, data, by, at: new Date().toISOString() };
      await this.step({ type: "approval", instance: target.instance.id, decision });
      return this.view();
    });
  }

  /**
   * Call runners' results (each told at least once; committed once: a repeat, or a result for an
   * attempt that has ended meanwhile, changes nothing but the attempt's late-result note).
   */
  async attemptResults(reports: AttemptReport[]): Promise<Result<null>> {
    if (!(await this.store.exists())) return { ok: false, error: "no such execution" };
    for (const report of reports) this.inbox.push({ type: "attempt_finished", ...report });
    await this.serialized(() => this.step());
    return { ok: true, value: null };
  }

  /** Text a call runner's attempt has streamed so far (best effort; the result carries all of it). */
  async attemptText(report: AttemptText): Promise<Result<null>> {
    const loaded = await this.store.load();
    if (!loaded) return { ok: false, error: "no such execution" };
    this.calls.setText(loaded, report.instance, report.attempt, report.text);
    return { ok: true, value: null };
  }

  /** A child execution ended (told at least once; a repeat or a stale notice changes nothing). */
  async childFinished(notice: ChildNotice): Promise<Result<null>> {
    return this.serialized(async () => {
      const loaded = await this.step({ type: "child_finished", ...notice });
      return loaded ? { ok: true as const, value: null } : { ok: false as const, error: "no such execution" };
    });
  }

  /**
   * A run this one's agent code starts holds a share of this run's budget until it ends (engine/budget.ts):
   * the share held (null: this run has no budget), or PRECONDITION_FAILED when nothing is left.
   */
  async budgetHold(request: BudgetHoldRequest): Promise<Result<{ budget: Budget | null }>> {
    return this.serialized(async () => {
      const loaded = await this.step({ type: "budget_hold", ...request });
      if (!loaded) return { ok: false as const, error: "no such execution" };
      const budget = request.release ? null : heldBudget(loaded.plan, loaded.run.header, request.executionId);
      if (budget !== undefined) return { ok: true as const, value: { budget } };
      const error = `the budget of execution ${loaded.meta.executionId} has nothing left for another run`;
      return { ok: false as const, code: "PRECONDITION_FAILED" as const, error };
    });
  }

  /**
   * Used by the sweeper: makes sure a live execution (or one whose D1 row is behind) has an alarm,
   * re-projects at once when the index row the sweeper read (`indexStatus`) disagrees with this object,
   * and asks the children it waits for how they are, in case a notice was lost.
   */
  async ensureAlarm(
    indexStatus?: RunStatus,
  ): Promise<Result<{ status: RunStatus; projected: boolean; armed: boolean }>> {
    const loaded = await this.serialized(() => this.store.load());
    if (!loaded) return { ok: false, error: "no such execution" };
    await this.outbox.askChildren(loaded);
    return this.serialized(async () => {
      const { status } = loaded.run.header;
      if (indexStatus !== undefined && indexStatus !== status) await this.project(loaded);
      // A queued run waits for the governor's release (its alarm reconciles the queue), not for a wake.
      if (loaded.queued !== undefined && !isTerminal(status))
        return { ok: true, value: { status, projected: loaded.projected === status, armed: false } };
      const live = !isTerminal(status) || loaded.outbox.size > 0;
      // The sweeper asks because an alarm may have been lost: what storage says, not what this instance knows.
      this.clock.forget();
      const armed = (live || loaded.projected !== status) && (await this.clock.pending()) === null;
      if (armed) await this.clock.set(Date.now());
      // An alarm that is there but too late (set for a deadline days away while a retry is overdue) is
      // as bad as none: a wake decides what is due and re-derives the one alarm from the state.
      else if (live && !this.calls.inInvocation()) await this.step({ type: "wake" });
      return { ok: true, value: { status, projected: loaded.projected === status, armed } };
    });
  }

  override async alarm(): Promise<void> {
    alarmsStarted += 1;
    this.calls.beginInvocation(Date.now());
    // The alarm that fired is gone, unless this handler fails and the runtime retries it.
    this.clock.forget();
    await this.clock.set(Date.now() + WATCHDOG_MS);
    try {
      await this.serialized(async () => {
        const loaded = await this.store.load();
        if (!loaded) return;
        this.crashAt("alarm_start", loaded);
        // Woken while queued (a projection retry): nothing may start before the governor releases it.
        if (loaded.queued !== undefined) return;
        await this.step({ type: loaded.run.header.status === "pending" ? "start" : "wake" });
        this.outbox.deliver(loaded);
        this.calls.redispatch(loaded);
      });
      await this.calls.drain(
        () => this.wakeAt,
        () => this.serialized(() => this.step({ type: "wake" })),
        () => this.outbox.inFlight(),
      );
    } catch (error) {
      this.clock.forget();
      throw error;
    } finally {
      this.calls.endInvocation();
    }
    await this.serialized(() => this.armAlarm());
  }

  /**
   * An event from work that finished outside the queue (a reply, a delivery): decided in the next step.
   * While other calls made here are still running, the step waits COALESCE_MS for their replies, so a
   * wide fan-out is decided and saved a few replies at a time rather than one write per reply.
   */
  private receive(event: EngineEvent): Promise<void> {
    this.inbox.push(event);
    if (this.coalescing) return this.coalescing;
    if (this.calls.inlineCount() === 0) return this.serialized(() => this.step()).then(() => undefined);
    const next = (async () => {
      await scheduler.wait(COALESCE_MS);
      this.coalescing = undefined;
      await this.serialized(() => this.step());
    })();
    this.coalescing = next;
    return next;
  }

  /**
   * One decision: `event` plus every event queued meanwhile, decided together, saved once, then
   * performed. Outside an alarm invocation it also arms the alarm the decision needs. Must run inside
   * `serialized`.
   */
  private async step(event?: EngineEvent): Promise<Loaded | undefined> {
    const loaded = await this.store.load();
    if (!loaded) return undefined;
    const events = [...(event ? [event] : []), ...this.inbox.splice(0)];
    if (events.length === 0) return loaded;
    decisionsMade += 1;
    let decision = decide(loaded.plan, loaded.run, events, this.inputs(Date.now()), {
      instant: instantReplies(this.env, loaded.plan),
      dispatch: this.calls.placement(loaded.plan, loaded.meta.tenantId),
    });
    // Storage could not take it (a record over one value's limit): the run fails instead of retrying forever.
    const refused = this.store.refusal(decision);
    if (refused)
      decision = decide(
        loaded.plan,
        loaded.run,
        [{ type: "fail", reason: refused.message }],
        this.inputs(Date.now()),
      );
    this.crashAt("after_decide", loaded);
    const { owed, unowed } = this.outbox.takeBackUnstarted(
      loaded,
      await withoutIdleWebhooks(
        this.env,
        this.gate,
        loaded.meta.tenantId,
        owedBy(loaded.meta, decision, loaded.run.instances),
      ),
    );
    if (!this.calls.inInvocation()) {
      // Deliveries and the D1 row are done right after the save; the alarm is only the net for a crash
      // in between, so it is due a moment later rather than at once, when it would race them.
      const urgent = owed.length > 0 || decision.header.status !== loaded.projected;
      const now = Date.now();
      await this.armNoLaterThan(
        urgent
          ? now + DELIVERY_RETRY_MS
          : earliest(decision.wakeAt, this.watchdogFor(decision.commands, now)),
      );
    }
    await this.store.save(decision, owed, unowed);
    // Ended while it waited in the queue (cancelled): a resume later must not find it still queued.
    if (loaded.queued !== undefined && isTerminal(decision.header.status)) await this.store.unqueue();
    this.crashAt("after_save", loaded);
    this.wakeAt = decision.wakeAt;
    this.perform(decision.commands, loaded);
    this.calls.settled(loaded);
    if (owed.length > 0) this.outbox.deliver(loaded);
    this.watchers.notify(decision.header.status);
    if (loaded.projected !== loaded.run.header.status) await this.project(loaded);
    if (!this.calls.inInvocation()) await this.armAlarm();
    return loaded;
  }

  /** Starts the calls a saved decision asks for and stops the ones it ended. */
  private perform(commands: readonly Command[], loaded: Loaded): void {
    for (const command of commands)
      if (command.type === "abort")
        this.calls.abort(loaded, command.instance, command.attempt, command.reason);
    const calls = commands.filter((command) => command.type === "call_model");
    if (calls.length > 0) this.calls.start(calls, loaded);
  }

  /** Outside an alarm, calls made here need the watchdog an alarm invocation arms for itself. */
  private watchdogFor(commands: readonly Command[], now: number): number | undefined {
    if (this.calls.inInvocation()) return undefined;
    const inline = commands.some(
      (command) => command.type === "call_model" && command.runnerIndex === undefined,
    );
    return inline ? now + WATCHDOG_MS : undefined;
  }

  private inputs(now: number): DecideContext {
    return { now, runner: this.runner, newExecutionId: () => newId("exe") };
  }

  private crashAt(point: FaultPoint, { meta }: Pick<Loaded, "meta">): void {
    const mode = faultAt(meta.executionId, point);
    if (mode === "abort") this.ctx.abort(`fault injected at ${point}`);
    if (mode === "throw") throw new Error(`fault injected at ${point}`);
  }

  private async project(loaded: Loaded): Promise<void> {
    if (await this.tryProject(loaded.meta, loaded.run.header))
      await this.store.markProjected(loaded.run.header.status);
  }

  /**
   * Writes `header` to the index row; false (logged) when the write failed, to be retried. Once an end
   * is written the tenant's governor is told (best effort, not awaited: it may be releasing this very
   * object; a lost notice is found by its reconciliation with D1).
   */
  private async tryProject(meta: Loaded["meta"], header: RunHeader): Promise<boolean> {
    const written = await this.gate.run(() =>
      tryProjectStatus(this.env.DB, meta, header, () => this.crashAt("before_projection", { meta })),
    );
    if (written && isTerminal(header.status) && meta.endNotice !== false)
      this.ctx.waitUntil(this.tellGovernorEnded(meta));
    return written;
  }

  private async tellGovernorEnded({ tenantId, executionId }: Loaded["meta"]): Promise<void> {
    try {
      await this.gate.run(() => governorStub(this.env, tenantId).executionEnded({ tenantId, executionId }));
    } catch (error) {
      console.error(`execution ${executionId}: telling the governor it ended:`, (error as Error).message);
    }
  }

  /**
   * Outside an alarm, brings the pending alarm forward to `at` before the save, so it is on disk no later
   * than the state that needs it: the alarm pending before (an approval's or a child's deadline, days
   * away, or none after a failed run resumes) must not be all that is left to pick up work that a crash
   * right after the save leaves due now. An alarm that fires early finds nothing due and re-arms.
   */
  private async armNoLaterThan(at: number | undefined): Promise<void> {
    if (at === undefined) return;
    const pending = await this.clock.pending();
    if (pending === null || pending > at) await this.clock.set(at);
  }

  /** One alarm: the engine's next wake-up, or a retry of a D1 projection or a delivery that failed. */
  private async armAlarm(): Promise<void> {
    const loaded = await this.store.load();
    // No state (its start never landed): drop the watchdog, or it would wake this empty object forever.
    if (!loaded) return this.clock.clear();
    if (loaded.projected !== loaded.run.header.status) await this.project(loaded);
    const now = Date.now();
    const live = !isTerminal(loaded.run.header.status);
    const due = [
      this.wakeAt,
      // Calls made here outside an alarm: a crash mid-call is picked up within a watchdog's length.
      live && this.calls.inlineCount() > 0 && !this.calls.inInvocation() ? now + WATCHDOG_MS : undefined,
      loaded.projected !== loaded.run.header.status ? now + PROJECTION_RETRY_MS : undefined,
      loaded.outbox.size > 0 ? now + DELIVERY_RETRY_MS : undefined,
    ].filter((at): at is number => at !== undefined);
    if (due.length === 0) return this.clock.clear();
    // Never due already: an alarm set from inside alarm() for a time that has passed may never fire
    // (local workerd drops it when the handler returns; see workerd#6866). A wake 1 ms late costs nothing.
    const at = Math.max(Math.min(...due), now + 1);
    // While calls made here run outside an alarm, the watchdog set when they started stands: moving it on
    // by the few ms a chain step takes would cost a write per step, and an early wake finds nothing due.
    const watching = live && this.calls.inlineCount() > 0 && !this.calls.inInvocation();
    const pending = await this.clock.pending();
    // Already set for then (a fan-out's results, one decision after another, keep the same deadline).
    if (pending === at) return;
    if (watching && pending !== null && pending > now && pending <= at) return;
    await this.clock.set(at);
  }

  /**
   * Forgets a start whose index row could not be written, so no run goes on that nobody can list. What
   * ran so far were local replies (pure; calls and deliveries wait for an alarm), so nothing is lost.
   */
  private async abandon(reason: string): Promise<Result<ExecutionStatus>> {
    await this.clock.clear();
    await this.ctx.storage.deleteAll();
    this.store.forget();
    this.wakeAt = undefined;
    return { ok: false, error: reason };
  }

  private async view(): Promise<Result<ExecutionStatus>> {
    const loaded = await this.store.load();
    if (!loaded) return { ok: false, error: "no such execution" };
    return { ok: true, value: statusView(loaded, (id) => this.calls.textOf(id)) };
  }

  /** Runs `work` after everything queued before it; keeps the queue alive when one fails. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}
