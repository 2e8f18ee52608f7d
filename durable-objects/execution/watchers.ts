// In-memory waiters of one execution object: long-polls for the next change (`watch`) and for the end
// (`waitForEnd`). Nothing here is persisted; a restarted object starts a new revision count, which
// callers see through the `runner` part of their token.
import { isTerminal } from "../engine/status";
import type { RunStatus } from "../engine/types";

/** Watchers hear of streamed text at most this often. */
export const TEXT_NOTICE_MS = 100;

export class RunWatchers {
  /** Counts transitions in this instance. */
  revision = 0;
  /** When watchers were last told about streamed text, and whether a later telling is scheduled. */
  private textToldAt = 0;
  private textTelling: ReturnType<typeof setTimeout> | undefined;
  private readonly onChange: (() => void)[] = [];
  private readonly onEnd: ((status: RunStatus) => void)[] = [];

  /** Called after every transition: wakes change waiters, and end waiters once the run is over. */
  notify(status: RunStatus): void {
    this.revision += 1;
    for (const wake of this.onChange.splice(0)) wake();
    if (isTerminal(status)) for (const resolve of this.onEnd.splice(0)) resolve(status);
  }

  /**
   * Streamed text changed (with every token): watchers are told at most every TEXT_NOTICE_MS, with the
   * run's status as `status()` reads it then.
   */
  textChanged(status: () => RunStatus | undefined): void {
    if (this.textTelling !== undefined) return;
    const tell = () => {
      this.textTelling = undefined;
      this.textToldAt = Date.now();
      const now = status();
      if (now) this.notify(now);
    };
    const wait = this.textToldAt + TEXT_NOTICE_MS - Date.now();
    if (wait <= 0) tell();
    else this.textTelling = setTimeout(tell, wait);
  }

  /** Resolves at the next transition or after `waitMs`, whichever comes first. */
  nextChange(waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.onChange.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  end(): Promise<RunStatus> {
    return new Promise((resolve) => this.onEnd.push(resolve));
  }
}
