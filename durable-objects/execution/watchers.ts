// In-memory waiters of one execution object: long-polls for the next change (`watch`) and for the end
// (`waitForEnd`). Nothing here is persisted; a restarted object starts a new revision count, which
// callers see through the `runner` part of their token.
import { isTerminal } from "../engine/status";
import type { RunStatus } from "../engine/types";

export class RunWatchers {
  /** Counts transitions in this instance. */
  revision = 0;
  private readonly onChange: (() => void)[] = [];
  private readonly onEnd: ((status: RunStatus) => void)[] = [];

  /** Called after every transition: wakes change waiters, and end waiters once the run is over. */
  notify(status: RunStatus): void {
    this.revision += 1;
    for (const wake of this.onChange.splice(0)) wake();
    if (isTerminal(status)) for (const resolve of this.onEnd.splice(0)) resolve(status);
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
