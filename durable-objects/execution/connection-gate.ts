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
    // A freed connection is handed straight to the first waiter, so a newcomer cannot take it between.
    if (this.open >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.open += 1;
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
