// The floor: a bare Durable Object that does the least a durable step can do — write one storage row
// and re-arm its alarm — so Troupe's per-step cost can be read against it. Benchmark-only code.
import { DurableObject } from "cloudflare:workers";

interface ChainState {
  kind: "chain" | "fanout";
  size: number;
  done: number;
  /** The time the pending alarm was set for. */
  alarmAt: number;
}

/**
 * Due at once, but never at the time of the alarm that is running: local workerd clears an alarm set
 * from inside alarm() for that same time when the handler returns (workerd#6866), which stalls a chain
 * in about one run in twelve.
 */
function nextAlarmAt(runningAt: number): number {
  return Math.max(Date.now() + 1, runningAt + 1);
}

export class BareChainObject extends DurableObject {
  private waiters: (() => void)[] = [];

  /** Starts a chain of `size` alarm steps, or one alarm that fans out `size` rows plus a join row. */
  async run(kind: "chain" | "fanout", size: number): Promise<void> {
    const finished = new Promise<void>((resolve) => this.waiters.push(resolve));
    const alarmAt = Date.now();
    await this.ctx.storage.put<ChainState>("state", { kind, size, done: 0, alarmAt });
    await this.ctx.storage.setAlarm(alarmAt);
    await finished;
  }

  override async alarm(): Promise<void> {
    const state = await this.ctx.storage.get<ChainState>("state");
    if (!state) return;
    if (state.kind === "fanout") {
      const rows: Record<string, number> = {};
      for (let i = 0; i < state.size; i++) rows[`branch:${i}`] = i;
      const keys = Object.keys(rows);
      for (let i = 0; i < keys.length; i += 128) {
        await this.ctx.storage.put(Object.fromEntries(keys.slice(i, i + 128).map((k) => [k, rows[k]])));
      }
      await this.ctx.storage.put("join", state.size);
      return this.finish();
    }
    const done = state.done + 1;
    const alarmAt = nextAlarmAt(state.alarmAt);
    await this.ctx.storage.put<ChainState>("state", { ...state, done, alarmAt });
    if (done < state.size) await this.ctx.storage.setAlarm(alarmAt);
    else this.finish();
  }

  private finish(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
