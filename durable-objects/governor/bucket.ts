// Token buckets, the pure math: a bucket holds at most `burst` tokens and refills at `perSecond`; a
// request takes `cost` tokens or is told how long to wait. No storage, no clock: `now` comes in.

export interface BucketRate {
  /** Tokens added per second. */
  perSecond: number;
  /** The most tokens the bucket holds (what a client may spend at once after a quiet spell). */
  burst: number;
}

export interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms since epoch). */
  at: number;
}

export type Take =
  | { ok: true; bucket: Bucket }
  /** `retryAfterMs`: when the bucket will hold `cost` tokens, if nothing else takes from it meanwhile. */
  | { ok: false; bucket: Bucket; retryAfterMs: number };

/** A bucket seen for the first time is full. */
export function refilled(bucket: Bucket | undefined, rate: BucketRate, now: number): Bucket {
  if (!bucket) return { tokens: rate.burst, at: now };
  const elapsedMs = Math.max(0, now - bucket.at);
  const tokens = Math.min(rate.burst, bucket.tokens + (elapsedMs * rate.perSecond) / 1000);
  return { tokens, at: Math.max(now, bucket.at) };
}

/**
 * Takes `cost` tokens if the bucket has them. A cost above the burst is charged as the burst (a batch
 * larger than the bucket can still pass once the bucket is full). A rate of 0 refills nothing, so an
 * empty bucket waits for ever: retryAfterMs is then Infinity.
 */
export function take(bucket: Bucket | undefined, rate: BucketRate, cost: number, now: number): Take {
  const current = refilled(bucket, rate, now);
  const charged = Math.min(cost, rate.burst);
  if (current.tokens >= charged)
    return { ok: true, bucket: { ...current, tokens: current.tokens - charged } };
  const missing = charged - current.tokens;
  const retryAfterMs = rate.perSecond > 0 ? Math.ceil((missing * 1000) / rate.perSecond) : Infinity;
  return { ok: false, bucket: current, retryAfterMs };
}

/**
 * Takes `cost` from every bucket or from none: a request refused by one bucket costs the others nothing.
 * With `extra`, also takes up to that many more tokens, as many as every bucket still holds whole (a
 * lease the caller spends without asking again); `granted` is what was taken in all. Answers the longest
 * wait among the buckets that refused, and which one that was.
 */
export function takeAll<K extends string>(
  buckets: { key: K; bucket: Bucket | undefined; rate: BucketRate }[],
  cost: number,
  now: number,
  extra = 0,
): { ok: true; buckets: Map<K, Bucket>; granted: number } | { ok: false; key: K; retryAfterMs: number } {
  const taken = new Map<K, Bucket>();
  let refused: { key: K; retryAfterMs: number } | undefined;
  for (const { key, bucket, rate } of buckets) {
    const result = take(bucket, rate, cost, now);
    if (result.ok) taken.set(key, result.bucket);
    else if (!refused || result.retryAfterMs > refused.retryAfterMs)
      refused = { key, retryAfterMs: result.retryAfterMs };
  }
  if (refused) return { ok: false, ...refused };
  const spare = Math.min(extra, ...[...taken.values()].map((bucket) => Math.floor(bucket.tokens)));
  if (spare <= 0) return { ok: true, buckets: taken, granted: cost };
  for (const [key, bucket] of taken) taken.set(key, { ...bucket, tokens: bucket.tokens - spare });
  return { ok: true, buckets: taken, granted: cost + spare };
}
