// Retry timing (durable-objects/engine/retry.ts): fixed or exponential delays with deterministic jitter in
// [50%, 100%], a rate limit's retryAfterMs as a floor, and interruptions not counted against maxRetries.
import { describe, expect, it } from "vitest";
import type { AgentStep } from "../../durable-objects/engine/definition";
import { countedAttempts, retryDelayMs, unitHash } from "../../durable-objects/engine/retry";
import type { StepError } from "../../durable-objects/engine/types";
import { RETRY_DELAY_MAX_MS } from "../../worker/schemas/orchestration";
import { planOf } from "../helpers/engine-driver";

const providerError: StepError = { kind: "provider", message: "502", retryable: true };
const rateLimit = (retryAfterMs: number): StepError => ({
  kind: "rate_limited",
  message: "429",
  retryable: true,
  retryAfterMs,
});

function stepWith(fields: { retryDelay?: number; retryBackoff?: "fixed" | "exponential" }): AgentStep {
  const [step] = planOf([{ name: "Call API", maxRetries: 10, ...fields }]).steps;
  if (step === undefined || (step.stepType !== undefined && step.stepType !== "agent"))
    throw new Error("no agent step");
  return step;
}

describe("unitHash", () => {
  it("maps text to [0, 1), the same text always to the same number", () => {
    const seeds = Array.from({ length: 500 }, (_, i) => `exec-${i}:0:1`);
    for (const seed of seeds) {
      const value = unitHash(seed);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
      expect(unitHash(seed)).toBe(value);
    }
    expect(unitHash("")).toBe(unitHash(""));
  });

  it("spreads nearby seeds over the range", () => {
    const values = Array.from({ length: 1000 }, (_, i) => unitHash(`exec:${i}`));
    expect(new Set(values).size).toBe(1000);
    expect(values.filter((v) => v < 0.5).length).toBeGreaterThan(400);
    expect(values.filter((v) => v >= 0.5).length).toBeGreaterThan(400);
  });
});

describe("retryDelayMs", () => {
  it("waits retryDelay before every retry with fixed backoff", () => {
    const step = stepWith({ retryDelay: 1000 });
    expect([1, 2, 3, 10].map((n) => retryDelayMs(step, n, "seed", providerError))).toEqual([
      1000, 1000, 1000, 1000,
    ]);
  });

  it("defaults to 1000 ms, fixed", () => {
    const step = stepWith({});
    expect(step.retryDelay).toBe(1000);
    expect(step.retryBackoff).toBe("fixed");
    expect(retryDelayMs(step, 3, "seed", providerError)).toBe(1000);
  });

  it("retries at once when retryDelay is 0, with either backoff", () => {
    expect(retryDelayMs(stepWith({ retryDelay: 0 }), 1, "seed", providerError)).toBe(0);
    expect(
      retryDelayMs(stepWith({ retryDelay: 0, retryBackoff: "exponential" }), 4, "seed", providerError),
    ).toBe(0);
  });

  it("doubles the exponential delay per retry, jittered into [50%, 100%] of delay·2^(n-1)", () => {
    const step = stepWith({ retryDelay: 1000, retryBackoff: "exponential" });
    for (let seed = 0; seed < 200; seed++) {
      for (let retry = 1; retry <= 8; retry++) {
        const full = 1000 * 2 ** (retry - 1);
        const delay = retryDelayMs(step, retry, `exec-${seed}:2`, providerError);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it("jitters deterministically: the same seed and retry give the same delay, other seeds differ", () => {
    const step = stepWith({ retryDelay: 1000, retryBackoff: "exponential" });
    const delays = Array.from({ length: 50 }, (_, i) => retryDelayMs(step, 3, `exec-${i}:0`, providerError));
    expect(Array.from({ length: 50 }, (_, i) => retryDelayMs(step, 3, `exec-${i}:0`, providerError))).toEqual(
      delays,
    );
    expect(new Set(delays).size).toBeGreaterThan(40);
    expect(retryDelayMs(step, 3, "exec-a:0", providerError)).toBe(
      Math.round(4000 * (0.5 + 0.5 * unitHash("exec-a:0:3"))),
    );
  });

  it("caps the exponential delay at RETRY_DELAY_MAX_MS before jitter", () => {
    const step = stepWith({ retryDelay: RETRY_DELAY_MAX_MS, retryBackoff: "exponential" });
    for (let retry = 1; retry <= 10; retry++) {
      const delay = retryDelayMs(step, retry, "seed", providerError);
      expect(delay).toBeLessThanOrEqual(RETRY_DELAY_MAX_MS);
      expect(delay).toBeGreaterThanOrEqual(RETRY_DELAY_MAX_MS / 2);
    }
  });

  it("treats a rate limit's retryAfterMs as a floor, never as a ceiling", () => {
    const fixed = stepWith({ retryDelay: 1000 });
    expect(retryDelayMs(fixed, 1, "seed", rateLimit(5000))).toBe(5000);
    expect(retryDelayMs(fixed, 1, "seed", rateLimit(10))).toBe(1000);
    const exponential = stepWith({ retryDelay: 1000, retryBackoff: "exponential" });
    expect(retryDelayMs(exponential, 1, "seed", rateLimit(60_000))).toBe(60_000);
    expect(retryDelayMs(exponential, 5, "seed", rateLimit(1))).toBe(
      retryDelayMs(exponential, 5, "seed", providerError),
    );
  });
});

describe("countedAttempts", () => {
  it("counts every attempt but those interrupted by a restart", () => {
    expect(countedAttempts([])).toBe(0);
    expect(
      countedAttempts([
        { outcome: "interrupted" },
        { outcome: "failed" },
        { outcome: "timed_out" },
        { outcome: "interrupted" },
        {},
      ]),
    ).toBe(3);
  });
});
