// Production's rule for outgoing connections, enforced here because local workerd does not: one
// invocation may have at most six connections waiting for their response at once, and a Durable Object
// shares one such budget across all the requests it is handling. Every outgoing call an object makes
// (a model request, another object's RPC, D1) goes through its gate, so what runs fast locally is what
// runs in production; see README, "Model calls at production width".

/** Cloudflare's limit: simultaneous outgoing connections per invocation (Durable Objects: per object). */
export const CONNECTIONS_PER_INVOCATION = 6;

/** The widest any gate has been since the isolate started (tests assert it never passes the limit). */
let widestSeen = 0;

export function widestGateSeen(): number {
  return widestSeen;
}

export class ConnectionGate {
  private open = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit = CONNECTIONS_PER_INVOCATION) {}

  /** Connections in use right now. */
  get inUse(): number {
    return this.open;
  }

  /** Runs `work` once a connection is free, holding it until `work` settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    return this.holding(work);
  }

  /**
   * Like `run`, but gives up when no connection is free within `ms`: then `work` never runs and the
   * answer is `{ ran: false }`.
   */
  async runWithin<T>(ms: number, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    if (!(await this.acquire(ms))) return { ran: false };
    return { ran: true, value: await this.holding(work) };
  }

  /** Takes a connection; false when `giveUpAfterMs` passed first. */
  private acquire(giveUpAfterMs?: number): Promise<boolean> {
    if (this.open < this.limit) {
      this.open += 1;
      return Promise.resolve(true);
    }
    // A freed connection is handed straight to the first waiter, so a newcomer cannot take it between.
    return new Promise<boolean>((resolve) => {
      const granted = () => resolve(true);
      this.waiting.push(granted);
      if (giveUpAfterMs === undefined) return;
      // Not cleared when granted (it then finds the waiter gone and does nothing): cheaper than clearing.
      setTimeout(() => {
        const at = this.waiting.indexOf(granted);
        if (at === -1) return;
        this.waiting.splice(at, 1);
        resolve(false);
      }, giveUpAfterMs);
    });
  }

  private async holding<T>(work: () => Promise<T>): Promise<T> {
    widestSeen = Math.max(widestSeen, this.open);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.open -= 1;
    }
  }
}
