// A latch the benchmark awaits: the last step of a Workflow releases it, so timing needs no polling.
import { DurableObject } from "cloudflare:workers";

export class LatchObject extends DurableObject {
  private released = false;
  private waiters: (() => void)[] = [];

  async wait(): Promise<void> {
    if (this.released) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async release(): Promise<void> {
    this.released = true;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
