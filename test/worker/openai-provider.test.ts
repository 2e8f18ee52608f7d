// The OpenAI-compatible provider against a real HTTP server on loopback (fake-openai-server.ts): what it
// sends, and how each kind of upstream failure becomes a tagged step error.
import { describe, expect, it } from "vitest";
import { openAiProvider, retryAfterMs } from "../../worker/models/openai";
import { waitFor } from "../helpers/executions";
import {
  chatRequest,
  failureOf,
  fakeKey,
  fakeOpenAiBaseUrl,
  noAbort,
  fakeProvider as provider,
  recordedRequests,
  waitForRequests,
} from "../helpers/fake-openai";

describe("the OpenAI-compatible provider against a real HTTP server", () => {
  it("returns the reply's text and the server's usage, sending the key and the request body", async () => {
    const { key, tag } = fakeKey();
    const user = `say hello ${tag}`;
    const reply = await provider().complete(chatRequest("ok", user), noAbort());
    expect(reply).toEqual({
      ok: true,
      text: user,
      usage: {
        model: "ok",
        tokensIn: "You are a test.".length + user.length,
        tokensOut: user.length,
        costUsd: 0,
      },
    });
    const [sent, ...others] = await recordedRequests(key);
    expect(others).toEqual([]);
    expect(sent).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      authorization: "Bearer test-key",
      contentType: "application/json",
    });
    expect(sent?.body).toEqual({
      model: "ok",
      messages: [
        { role: "system", content: "You are a test." },
        { role: "user", content: user },
      ],
      temperature: 0.2,
      max_tokens: 64,
    });
  });

  it("sends top_p and a JSON response_format when the request asks for them", async () => {
    const { key, tag } = fakeKey();
    const reply = await provider().complete(chatRequest("ok", tag, { topP: 0.9, json: true }), noAbort());
    expect(reply.ok).toBe(true);
    const [sent] = await recordedRequests(key);
    expect(sent?.body).toMatchObject({ top_p: 0.9, response_format: { type: "json_object" } });
  });

  it("sends no authorization header without a key, and tolerates a trailing slash in the base URL", async () => {
    const { key, tag } = fakeKey();
    const reply = await openAiProvider(`${fakeOpenAiBaseUrl()}/`, undefined).complete(
      chatRequest("ok", tag),
      noAbort(),
    );
    expect(reply.ok).toBe(true);
    const [sent] = await recordedRequests(key);
    expect(sent).toMatchObject({ path: "/v1/chat/completions", authorization: null });
  });

  it("estimates tokens itself when the server's usage fields are not counts", async () => {
    const { tag } = fakeKey();
    const request = chatRequest("badusage", tag);
    const reply = await provider().complete(request, noAbort());
    const estimate = (text: string) => Math.ceil(text.length / 4);
    expect(reply).toEqual({
      ok: true,
      text: "twelve chars",
      usage: {
        model: "badusage",
        tokensIn: request.messages.reduce((sum, m) => sum + estimate(m.content), 0),
        tokensOut: estimate("twelve chars"),
        costUsd: 0,
      },
    });
  });

  it("maps a 500 to a retryable provider error carrying the status and the body", async () => {
    const { tag } = fakeKey();
    const error = failureOf(await provider().complete(chatRequest("fail500", tag), noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: true });
    expect(error.message).toContain("answered 500");
    expect(error.message).toContain("the fake upstream failed");
    expect(error.retryAfterMs).toBeUndefined();
  });

  it("maps a 429 with Retry-After: 1 to rate_limited with retryAfterMs 1000, and succeeds when asked again", async () => {
    const { key, tag } = fakeKey();
    const error = failureOf(await provider().complete(chatRequest("rate429", tag), noAbort()));
    expect(error).toMatchObject({ kind: "rate_limited", retryable: true, retryAfterMs: 1000 });
    expect(error.message).toContain("429");
    const again = await provider().complete(chatRequest("rate429", tag), noAbort());
    expect(again).toMatchObject({ ok: true, text: tag });
    expect((await recordedRequests(key)).map((r) => r.status)).toEqual([429, 200]);
  });

  it("maps a 400 to a provider error that is not retryable", async () => {
    const { tag } = fakeKey();
    const error = failureOf(await provider().complete(chatRequest("bad400", tag), noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: false });
    expect(error.message).toContain("answered 400");
    expect(error.message).toContain("the fake upstream rejects this request");
  });

  it("maps a 200 whose body is not JSON to a retryable error that quotes the body", async () => {
    const { tag } = fakeKey();
    const error = failureOf(await provider().complete(chatRequest("malformed", tag), noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: true });
    expect(error.message).toContain("not JSON");
    expect(error.message).toContain("<html>upstream proxy error</html>");
  });

  it("maps a JSON reply without choices to a retryable error naming the missing field", async () => {
    const { tag } = fakeKey();
    const error = failureOf(await provider().complete(chatRequest("nocontent", tag), noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: true });
    expect(error.message).toContain("choices[0].message.content");
  });

  it("maps a connection cut off in the middle of the body to a retryable error instead of throwing", async () => {
    const { tag } = fakeKey();
    const error = failureOf(await provider().complete(chatRequest("truncated", tag), noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: true });
    expect(error.message).toContain("could not read the model provider's reply");
  });

  // workerd logs the refused connection as "uncaught" even though the provider catches it.
  it("maps a server that cannot be reached to a retryable error", async () => {
    const unreachable = openAiProvider("http://127.0.0.1:1/v1", "test-key");
    const error = failureOf(await unreachable.complete(chatRequest("ok", "hello"), noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: true });
    expect(error.message).toContain("could not reach the model provider");
  });

  it("stops waiting for a server that hangs as soon as the signal is aborted, and drops the connection", async () => {
    const { key, tag } = fakeKey();
    const controller = new AbortController();
    const call = provider().complete(chatRequest("hang", tag), controller.signal);
    const settled = call.then(
      () => "resolved",
      (error: Error) => error.name,
    );
    await waitForRequests(key, 1);
    const abortedAt = Date.now();
    controller.abort(new DOMException("the step timed out", "AbortError"));
    expect(await settled).toBe("AbortError");
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    const [record] = await waitFor(
      () => recordedRequests(key),
      (records) => records[0]?.abortedByClient === true,
    );
    expect(record?.status).toBe("hanging");
  });

  it("gives up on a hanging server when a timeout signal fires", async () => {
    const { tag } = fakeKey();
    const startedAt = Date.now();
    await expect(provider().complete(chatRequest("hang", tag), AbortSignal.timeout(200))).rejects.toThrow();
    expect(Date.now() - startedAt).toBeLessThan(1200);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it.each([
    ["1", 1000],
    ["0", 0],
    ["120", 120_000],
    ["1.5", 1500],
  ])("reads %j as seconds (%i ms)", (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });

  it("reads an HTTP date as the time left until then, never negative", () => {
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3000);
    expect(retryAfterMs(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });

  it.each([null, "", "soon", "-1", "1e3", "0x10", "Infinity", "120abc"])(
    "ignores the invalid value %j",
    (header) => {
      expect(retryAfterMs(header, now)).toBeUndefined();
    },
  );
});
