// The floor: a bare Durable Object that does the least a durable step can do — write one storage row
// and re-arm its alarm — so Troupe's per-step cost can be read against it. Benchmark-only code.
import { DurableObject } from "cloudflare:workers";

interface ChainState {
  kind: "chain" | "fanout";
  size: number;
  done: number;
}

export class BareChainObject extends DurableObject {
  private waiters: (() => void)[] = [];

  /** Starts a chain of `size` alarm steps, or one alarm that fans out `size` rows plus a join row. */
  async run(kind: "chain" | "fanout", size: number): Promise<void> {
    const finished = new Promise<void>((resolve) => this.waiters.push(resolve));
    await this.ctx.storage.put<ChainState>("state", { kind, size, done: 0 });
    await this.ctx.storage.setAlarm(Date.now());
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
    await this.ctx.storage.put<ChainState>("state", { ...state, done });
    if (done < state.size) await this.ctx.storage.setAlarm(Date.now());
    else this.finish();
  }

  private finish(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
