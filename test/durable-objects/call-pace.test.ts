// The pieces placement stands on: a model's pace (the quickest of its last calls, forgotten after a
// while) and a connection gate that a queued call can give up waiting for.
import { describe, expect, it } from "vitest";
import { forgetPaces, notePace, paceKey, paceOf } from "../../durable-objects/execution/call-pace";
import { ConnectionGate } from "../../durable-objects/execution/connection-gate";

describe("a model's pace", () => {
  const key = paceKey("ten_a", "Writer", "openai:gpt");

  it("is unknown until a call is seen, then the quickest of the last eight calls", () => {
    forgetPaces();
    expect(paceOf(key, 0)).toBeUndefined();
    notePace(key, 40, 0);
    notePace(key, 3, 1);
    notePace(key, 90, 2);
    expect(paceOf(key, 3)).toBe(3);
    // Eight slower calls later the quick one no longer counts: the model has turned slow.
    for (let i = 0; i < 8; i++) notePace(key, 500 + i, 10 + i);
    expect(paceOf(key, 20)).toBe(500);
    // Another tenant's (or role's) calls of the same model are another pace.
    expect(paceOf(paceKey("ten_b", "Writer", "openai:gpt"), 20)).toBeUndefined();
  });

  it("is forgotten five minutes after the last call, and starts again from the next", () => {
    forgetPaces();
    notePace(key, 2, 0);
    expect(paceOf(key, 5 * 60_000)).toBe(2);
    expect(paceOf(key, 5 * 60_000 + 1)).toBeUndefined();
    notePace(key, 700, 5 * 60_000 + 1);
    expect(paceOf(key, 5 * 60_000 + 2)).toBe(700);
  });
});

describe("a connection gate's runWithin", () => {
  it("runs at once while a connection is free, and gives up after its wait without running the work", async () => {
    const gate = new ConnectionGate(1);
    let release = () => {};
    const holding = gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    let ran = false;
    const gaveUp = await gate.runWithin(20, async () => {
      ran = true;
    });
    expect(gaveUp).toEqual({ ran: false });
    expect(ran).toBe(false);

    // The freed connection goes to the next waiter, not to the one that gave up (nor is it lost).
    const next = gate.runWithin(5_000, async () => "second");
    release();
    await holding;
    expect(await next).toEqual({ ran: true, value: "second" });
    expect(gate.inUse).toBe(0);
  });
});
