// The execution object's one alarm, as this instance last set or read it. Each decision outside an alarm
// asks "is the alarm already early enough?" before and after its save; reading it back from storage
// each time cost two storage calls per decision. What this instance did not see is read again: at
// first use, after the alarm fired (the runtime clears it then), after a handler failed (the runtime
// may retry it), and after any write that failed.
export class AlarmClock {
  private known: { at: number | null } | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** When the alarm is due (epoch ms), or null when none is set. */
  async pending(): Promise<number | null> {
    if (this.known === undefined) this.known = { at: await this.storage.getAlarm() };
    return this.known.at;
  }

  async set(at: number): Promise<void> {
    this.known = undefined;
    await this.storage.setAlarm(at);
    this.known = { at };
  }

  async clear(): Promise<void> {
    this.known = undefined;
    await this.storage.deleteAlarm();
    this.known = { at: null };
  }

  /** The alarm fired or its handler failed: what was known may no longer hold. */
  forget(): void {
    this.known = undefined;
  }
}
