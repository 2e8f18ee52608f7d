// The floor: a bare Durable Object that does the least a durable step can do — write one storage row
// and re-arm its alarm — so Troupe's per-step cost can be read against it. Its HTTP variant adds one
// model call per step (to the benchmark's loopback model server) before the step's row is written: a
// chain step is one alarm, one call, one write; a fan-out is one alarm making its 100 calls at once,
// each writing its row as it returns (a reply is recorded when it arrives, as Troupe commits each one),
// then the join's call and row. Writing the 100 rows in one batch after the last reply would halve the
// fan-out here (about 51 against 116 ms inside the object on a busy 2-core machine) but records nothing
// until every call has answered. Benchmark-only code.
import { DurableObject } from "cloudflare:workers";
import { ConnectionGate } from "../../durable-objects/execution/connection-gate";
import { callModelServer, type ModelServerRef } from "./model-call";

interface ChainState {
  kind: "chain" | "fanout";
  size: number;
  done: number;
  /** The time the pending alarm was set for. */
  alarmAt: number;
  /** Set for the HTTP variant: each step calls this model server once. */
  model?: ModelServerRef;
}

/**
 * Due at once, but never at the time of the alarm that is running: local workerd clears an alarm set
 * from inside alarm() for that same time when the handler returns (workerd#6866), which stalls a chain
 * in about one run in twelve.
 */
function nextAlarmAt(runningAt: number): number {
  return Math.max(Date.now() + 1, runningAt + 1);
}

export class BareChainObject extends DurableObject<{ FLOOR_CONNECTIONS?: string }> {
  private waiters: (() => void)[] = [];
  /** Set by BENCH_FLOOR_CONNECTIONS: the fan-out's calls at once (unset: all at once, as wrangler dev allows). */
  private readonly gate = this.env.FLOOR_CONNECTIONS
    ? new ConnectionGate(Number(this.env.FLOOR_CONNECTIONS))
    : undefined;

  /** Starts a chain of `size` alarm steps, or one alarm that fans out `size` rows plus a join row. */
  async run(kind: "chain" | "fanout", size: number, model?: ModelServerRef): Promise<void> {
    const finished = new Promise<void>((resolve) => this.waiters.push(resolve));
    const alarmAt = Date.now();
    await this.ctx.storage.put<ChainState>("state", {
      kind,
      size,
      done: 0,
      alarmAt,
      ...(model ? { model } : {}),
    });
    await this.ctx.storage.setAlarm(alarmAt);
    await finished;
  }

  override async alarm(): Promise<void> {
    const state = await this.ctx.storage.get<ChainState>("state");
    if (!state) return;
    if (state.kind === "fanout") {
      await (state.model ? this.fanOutCalling(state.size, state.model) : this.fanOut(state.size));
      return this.finish();
    }
    if (state.model) await callModelServer(state.model, `step ${state.done}`);
    const done = state.done + 1;
    const alarmAt = nextAlarmAt(state.alarmAt);
    await this.ctx.storage.put<ChainState>("state", { ...state, done, alarmAt });
    if (done < state.size) await this.ctx.storage.setAlarm(alarmAt);
    else this.finish();
  }

  private async fanOut(size: number): Promise<void> {
    const rows: Record<string, number> = {};
    for (let i = 0; i < size; i++) rows[`branch:${i}`] = i;
    const keys = Object.keys(rows);
    for (let i = 0; i < keys.length; i += 128) {
      await this.ctx.storage.put(Object.fromEntries(keys.slice(i, i + 128).map((k) => [k, rows[k]])));
    }
    await this.ctx.storage.put("join", size);
  }

  private async fanOutCalling(size: number, model: ModelServerRef): Promise<void> {
    const branches = await Promise.all(
      Array.from({ length: size }, async (_, i) => {
        const call = () => callModelServer(model, `branch ${i}`);
        const tokens = await (this.gate ? this.gate.run(call) : call());
        await this.ctx.storage.put(`branch:${i}`, tokens);
        return tokens;
      }),
    );
    await callModelServer(model, `join of ${branches.length}`);
    await this.ctx.storage.put("join", size);
  }

  private finish(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
