// The OpenAI-compatible provider against a server nobody here wrote: @dwmkerr/mock-llm from npm
// (test/helpers/mock-llm-server.ts), plain and streaming, success and failure.
import { describe, expect, inject, it } from "vitest";
import { openAiProvider } from "../../worker/models/openai";
import type { ModelReply } from "../../worker/models/types";
import { chatRequest } from "../helpers/fake-openai";

const provider = () => openAiProvider(`http://127.0.0.1:${inject("mockLlmPort")}/v1`, "mock-key");
const noAbort = () => new AbortController().signal;
const estimate = (text: string) => Math.ceil(text.length / 4);

function failureOf(reply: ModelReply) {
  if (reply.ok) throw new Error(`expected a failure, got the reply ${JSON.stringify(reply.text)}`);
  return reply.error;
}

describe("the OpenAI-compatible provider against @dwmkerr/mock-llm", () => {
  it("returns the echoed reply, estimating usage the server does not report", async () => {
    const user = "hello from the third-party mock";
    const reply = await provider().complete(chatRequest("gpt-4", user), noAbort());
    expect(reply).toEqual({
      ok: true,
      text: user,
      usage: {
        model: "gpt-4",
        tokensIn: estimate("You are a test.") + estimate(user),
        tokensOut: estimate(user),
        costUsd: 0,
      },
    });
  });

  it("streams the same reply in chunks, calling onText with the growing text", async () => {
    const user = "a streamed reply from the third-party mock server";
    const seen: string[] = [];
    const request = chatRequest("gpt-4", user, { onText: (text) => seen.push(text) });
    const streamed = await provider().complete(request, noAbort());
    const plain = await provider().complete(chatRequest("gpt-4", user), noAbort());
    expect(streamed).toEqual(plain);
    expect(seen.length).toBe(Math.ceil(user.length / 5));
    expect(seen.at(-1)).toBe(user);
    for (const [index, text] of seen.entries()) expect(text).toBe(user.slice(0, (index + 1) * 5));
  });

  it("maps the mock's 500 to a retryable failure and its 401 to a final one", async () => {
    const failed = failureOf(await provider().complete(chatRequest("gpt-4", "mock-fail-500"), noAbort()));
    expect(failed).toMatchObject({ kind: "provider", retryable: true });
    expect(failed.message).toContain("answered 500");
    const refused = failureOf(await provider().complete(chatRequest("gpt-4", "mock-bad-key"), noAbort()));
    expect(refused).toMatchObject({ kind: "provider", retryable: false });
    expect(refused.message).toContain("Incorrect API key provided.");
  });

  it("reads an error the mock sends inside a 200 stream, as OpenAI does, as a final failure", async () => {
    const request = chatRequest("gpt-4", "mock-bad-key", { onText: () => undefined });
    const refused = failureOf(await provider().complete(request, noAbort()));
    expect(refused).toMatchObject({ kind: "provider", retryable: false });
    expect(refused.message).toBe(
      "the model provider reported an error in its stream: Incorrect API key provided.",
    );
  });
});
