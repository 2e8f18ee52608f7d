// The dashboard's provider form and live streaming text, pure parts: what the form sends (a blank key
// keeps the stored one, an emptied base URL removes it), how windows and prices read, and when a step's
// streaming text shows.
import { describe, expect, it } from "vitest";
import { formatPrices, formatTokens } from "../../web/src/lib/format";
import {
  createInputOf,
  draftOf,
  emptyModel,
  emptyProvider,
  type Provider,
  updatesOf,
} from "../../web/src/lib/provider-draft";
import { streamingTextOf } from "../../web/src/lib/run-view";
import type { StepLog } from "../../web/src/lib/trpc";

const stored = {
  id: "prv_1",
  name: "my-router",
  kind: "openai-compatible",
  baseUrl: "https://openrouter.ai/api/v1",
  keyLast4: "9f2c",
  models: [
    {
      id: "anthropic/claude-sonnet",
      contextWindow: 200000,
      priceIn: 3,
      priceOut: 15,
      capabilities: { reasoning: true, tools: true, coding: true, structuredOutput: false, streaming: true },
    },
  ],
} as unknown as Provider;

describe("provider form", () => {
  it("sends a new provider's fields trimmed, numbers as numbers, and no empty key or base URL", () => {
    const draft = emptyProvider();
    draft.name = " my-router ";
    const model = { ...emptyModel(), id: "gpt-x ", contextWindow: "8000", priceIn: "0.5", priceOut: "1.5" };
    const input = createInputOf({ ...draft, models: [model] });
    expect(input).toEqual({
      name: "my-router",
      kind: "openai-compatible",
      models: [
        {
          id: "gpt-x",
          contextWindow: 8000,
          priceIn: 0.5,
          priceOut: 1.5,
          capabilities: {
            reasoning: false,
            tools: false,
            coding: false,
            structuredOutput: false,
            streaming: true,
          },
        },
      ],
    });
  });

  it("starts an edit with the key empty and leaves the stored key alone unless a new one is typed", () => {
    const draft = draftOf(stored);
    expect(draft.apiKey).toBe("");
    expect(draft.models[0]?.contextWindow).toBe("200000");
    expect(updatesOf(draft)).not.toHaveProperty("apiKey");
    expect(updatesOf({ ...draft, apiKey: "sk-new" }).apiKey).toBe("sk-new");
  });

  it("removes the base URL when the field is emptied", () => {
    expect(updatesOf({ ...draftOf(stored), baseUrl: " " }).baseUrl).toBeNull();
  });

  it("sends an empty number field as a value the server names, not as 0", () => {
    const model = { ...emptyModel(), id: "m", contextWindow: "" };
    const sent = createInputOf({ ...emptyProvider(), name: "p", models: [model] }).models[0];
    expect(JSON.parse(JSON.stringify(sent)).contextWindow).toBeNull();
  });

  it("reads windows and prices the short way", () => {
    expect([formatTokens(128000), formatTokens(1_000_000), formatTokens(8192)]).toEqual([
      "128k",
      "1M",
      "8,192",
    ]);
    expect(formatPrices(0.15, 0.6)).toBe("$0.15 in / $0.60 out per M tokens");
    expect(formatPrices(0, 0)).toBe("free");
  });
});

describe("streaming text", () => {
  const log = (status: string, streamingText: string | null) =>
    ({ status, streamingText }) as unknown as StepLog;

  it("shows while the step runs and the model has sent something", () => {
    expect(streamingTextOf(log("running", "Hello wor"))).toBe("Hello wor");
    expect(streamingTextOf(log("running", ""))).toBeNull();
    expect(streamingTextOf(log("running", null))).toBeNull();
  });

  it("gives way to the stored output once the step has ended", () => {
    expect(streamingTextOf(log("completed", "Hello world"))).toBeNull();
    expect(streamingTextOf(undefined)).toBeNull();
  });
});
