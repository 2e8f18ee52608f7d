// Queues for loaded isolates: Cloudflare allows at most 4 in flight per request and 10 per Durable
// Object, and says more must wait in a queue of one's own rather than fail. A gate hands out slots in
// arrival order; a run holds its slots until its isolate call has settled, not merely until it gave up.
import { ISOLATES_PER_OBJECT, ISOLATES_PER_REQUEST } from "./limits";

export class IsolateGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** The most slots ever held at once, for tests and diagnostics. */
  peak = 0;

  constructor(
    readonly limit: number,
    private readonly onIdle?: () => void,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with the function that gives the slot back (calling it twice is harmless). */
  async acquire(): Promise<() => void> {
    if (this.active < this.limit) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the releaser hands its slot over
    this.peak = Math.max(this.peak, this.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) return next();
      this.active -= 1;
      if (this.active === 0) this.onIdle?.();
    };
  }
}

/** Takes a slot of every gate, always in the order given, so two runs cannot each hold what the other waits for. */
export async function acquireAll(gates: readonly IsolateGate[]): Promise<() => void> {
  const releases: (() => void)[] = [];
  for (const gate of gates) releases.push(await gate.acquire());
  return () => {
    for (const release of releases.reverse()) release();
  };
}

const requestGates = new WeakMap<object, IsolateGate>();

/** The gate of one incoming request (a tRPC batch may run several agent-code calls). */
export function requestGate(request: object): IsolateGate {
  let gate = requestGates.get(request);
  if (!gate) {
    gate = new IsolateGate(ISOLATES_PER_REQUEST);
    requestGates.set(request, gate);
  }
  return gate;
}

const objectGates = new Map<string, IsolateGate>();

/** A gate shared by everything one Durable Object (one execution) runs, dropped when idle. */
export function objectGate(objectKey: string, limit: number = ISOLATES_PER_OBJECT): IsolateGate {
  let gate = objectGates.get(objectKey);
  if (!gate) {
    gate = new IsolateGate(limit, () => objectGates.delete(objectKey));
    objectGates.set(objectKey, gate);
  }
  return gate;
}
