// The tenant's queue of executions waiting for a running slot, in the governor's storage, oldest first.
// Storage only: which entry may start, and when, is the governor's to decide.
//
// PERSISTED CONTRACT v1 (governor storage, with object.ts's keys): "queued:<seq>" = QueuedEntry, <seq>
// padded to 12 digits so storage lists the queue in order; "tenant" = the tenant's id (for the alarm).

const QUEUE_PREFIX = "queued:";
const SEQ_DIGITS = 12;
export const TENANT_KEY = "tenant";

export interface QueuedEntry {
  executionId: string;
  /** When it was queued (ms). */
  at: number;
}

export class ExecutionQueue {
  /** By execution id, in queue order (a Map keeps insertion order). */
  private entries: Map<string, { seq: number; at: number }> | undefined;
  private nextSeq = 0;

  constructor(private readonly storage: DurableObjectStorage) {}

  async load(): Promise<Map<string, { seq: number; at: number }>> {
    if (this.entries) return this.entries;
    const stored = await this.storage.list<QueuedEntry>({ prefix: QUEUE_PREFIX });
    const entries = new Map<string, { seq: number; at: number }>();
    for (const [key, entry] of stored) {
      const seq = Number(key.slice(QUEUE_PREFIX.length));
      entries.set(entry.executionId, { seq, at: entry.at });
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    this.entries ??= entries;
    return this.entries;
  }

  /** Its place in the queue, 1 for the next to start; 0 when it is not queued. */
  async positionOf(executionId: string): Promise<number> {
    let position = 0;
    for (const id of (await this.load()).keys()) {
      position += 1;
      if (id === executionId) return position;
    }
    return 0;
  }

  /** Appends `executionId`; answers its position. */
  async add(tenantId: string, executionId: string, now: number): Promise<number> {
    const entries = await this.load();
    const seq = this.nextSeq++;
    const entry: QueuedEntry = { executionId, at: now };
    await this.storage.put({ [TENANT_KEY]: tenantId, [keyOf(seq)]: entry });
    entries.set(executionId, { seq, at: now });
    return entries.size;
  }

  async remove(executionIds: readonly string[]): Promise<void> {
    const entries = await this.load();
    const keys = executionIds.flatMap((id) => {
      const entry = entries.get(id);
      entries.delete(id);
      return entry ? [keyOf(entry.seq)] : [];
    });
    for (let i = 0; i < keys.length; i += 128) await this.storage.delete(keys.slice(i, i + 128));
  }

  /** The oldest entry, if any. */
  async head(): Promise<string | undefined> {
    return (await this.load()).keys().next().value;
  }

  forget(): void {
    this.entries = undefined;
    this.nextSeq = 0;
  }
}

function keyOf(seq: number): string {
  return `${QUEUE_PREFIX}${String(seq).padStart(SEQ_DIGITS, "0")}`;
}
