// TOO_MANY_REQUESTS that says when to come back: the message names the wait, and the auth router copies
// it into a Retry-After header (seconds) so clients need not parse the text.
import { TroupeError } from "../errors";

export class RetryLaterError extends TroupeError {
  override name = "RetryLaterError";
  readonly retryAfterSeconds: number;
  constructor(waitMs: number, what: string) {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    super("TOO_MANY_REQUESTS", `${what}; try again in ${seconds} s`);
    this.retryAfterSeconds = seconds;
  }
}
