// Streaming through the OpenAI-compatible provider against the fake server (fake-openai-server.ts):
// chunks split anywhere arrive in order, onText sees the text grow, the final reply equals the
// non-streaming one, and a stream that drops or stops early is a retryable failure. Also what a step's
// outputSchema makes the provider send (response_format, or the schema in the system prompt).
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/executions";
import {
  chatRequest,
  failureOf,
  fakeKey,
  noAbort,
  fakeProvider as provider,
  recordedRequests,
  waitForRequests,
} from "../helpers/fake-openai";

/** A request that streams, and the texts its onText saw, in order. */
function streamingRequest(model: string, user: string) {
  const seen: string[] = [];
  return { request: chatRequest(model, user, { onText: (text) => seen.push(text) }), seen };
}

describe("streaming from an OpenAI-compatible server", () => {
  it("asks for a stream with usage, and returns the same reply as without streaming", async () => {
    const { key, tag } = fakeKey();
    // Multi-byte characters: the fake splits each event at its middle byte, sometimes inside one.
    const user = `stream me, ünïcödé ✓ and all ${tag}`;
    const { request, seen } = streamingRequest("stream", user);
    const streamed = await provider().complete(request, noAbort());
    const plain = await provider().complete(chatRequest("ok", user), noAbort());
    expect(streamed).toEqual({ ...plain, usage: { ...(plain.ok ? plain.usage : {}), model: "stream" } });
    expect(seen.at(-1)).toBe(user);
    const [sent] = await recordedRequests(key);
    expect(sent?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("calls onText with each longer prefix of the reply, one chunk at a time, in order", async () => {
    const { tag } = fakeKey();
    const user = `0123456789abcdefghij ${tag}`;
    const { request, seen } = streamingRequest("stream", user);
    await provider().complete(request, noAbort());
    const expected: string[] = [];
    for (let end = 4; end < user.length + 4; end += 4) expected.push(user.slice(0, end));
    expect(seen).toEqual(expected);
  });

  it("passes text on as it arrives, before the stream has ended", async () => {
    const { key, tag } = fakeKey();
    const user = `partial text first ${tag}`;
    const controller = new AbortController();
    const { request, seen } = streamingRequest("streamhang", user);
    const call = provider().complete(request, controller.signal);
    const settled = call.then(
      () => "resolved",
      (error: Error) => error.name,
    );
    await waitFor(
      async () => seen.length,
      (count) => count >= 2,
    );
    expect(seen).toEqual([user.slice(0, 4), user.slice(0, 8)]);
    controller.abort(new DOMException("the step timed out", "AbortError"));
    expect(await settled).toBe("AbortError");
    const [record] = await waitFor(
      () => recordedRequests(key),
      (records) => records[0]?.abortedByClient === true,
    );
    expect(record?.status).toBe(200);
  });

  it("throws when aborted before the stream starts, as without streaming", async () => {
    const { key, tag } = fakeKey();
    const controller = new AbortController();
    const call = provider().complete(streamingRequest("hang", tag).request, controller.signal);
    const settled = call.then(
      () => "resolved",
      (error: Error) => error.name,
    );
    await waitForRequests(key, 1);
    controller.abort(new DOMException("the step timed out", "AbortError"));
    expect(await settled).toBe("AbortError");
  });

  it("maps a connection dropped mid-stream to a retryable failure, after showing the text so far", async () => {
    const { tag } = fakeKey();
    const { request, seen } = streamingRequest("streamdrop", `dropped halfway ${tag}`);
    const error = failureOf(await provider().complete(request, noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: true });
    expect(error.message).toContain("the stream ended before the reply was complete");
    expect(seen).toEqual(["drop", "dropped "]);
  });

  it("maps a stream that ends without finish_reason or [DONE] to a retryable failure", async () => {
    const { tag } = fakeKey();
    const error = failureOf(
      await provider().complete(streamingRequest("streamcut", `cut ${tag}`).request, noAbort()),
    );
    expect(error).toEqual({
      kind: "provider",
      message: "the stream ended before the reply was complete",
      retryable: true,
    });
  });

  it("maps an error event inside the stream to a retryable provider failure quoting it", async () => {
    const { tag } = fakeKey();
    const request = streamingRequest("streamerror", `error ${tag}`).request;
    const error = failureOf(await provider().complete(request, noAbort()));
    expect(error).toMatchObject({ kind: "provider", retryable: true });
    expect(error.message).toContain("the fake upstream broke mid-stream");
  });

  it("maps failures before the stream exactly as without streaming", async () => {
    const { tag } = fakeKey();
    const limited = failureOf(await provider().complete(streamingRequest("rate429", tag).request, noAbort()));
    expect(limited).toMatchObject({ kind: "rate_limited", retryable: true, retryAfterMs: 1000 });
    const failed = failureOf(await provider().complete(streamingRequest("fail500", tag).request, noAbort()));
    expect(failed).toMatchObject({ kind: "provider", retryable: true });
    expect(failed.message).toContain("answered 500");
    const refused = failureOf(await provider().complete(streamingRequest("bad400", tag).request, noAbort()));
    expect(refused).toMatchObject({ kind: "provider", retryable: false });
    expect(refused.message).toContain("the fake upstream rejects this request");
  });

  it("streams any plain behaviour too, and takes a server that ignores stream: true at its word", async () => {
    const { tag } = fakeKey();
    const user = `plain but streamed ${tag}`;
    const viaOk = streamingRequest("ok", user);
    expect(await provider().complete(viaOk.request, noAbort())).toMatchObject({ ok: true, text: user });
    expect(viaOk.seen.at(-1)).toBe(user);
    const ignored = streamingRequest("streamignored", user);
    expect(await provider().complete(ignored.request, noAbort())).toMatchObject({ ok: true, text: user });
    expect(ignored.seen).toEqual([user]);
  });

  it("keeps the reply when onText throws: the preview never changes the result", async () => {
    const { tag } = fakeKey();
    const request = chatRequest("stream", `fragile watcher ${tag}`, {
      onText: () => {
        throw new Error("the watcher broke");
      },
    });
    expect(await provider().complete(request, noAbort())).toMatchObject({
      ok: true,
      text: `fragile watcher ${tag}`,
    });
  });
});

describe("what an outputSchema makes the provider send", () => {
  const schema = { type: "object", properties: { score: { type: "number" } }, required: ["score"] };

  it("sends response_format json_schema when the model supports structured output", async () => {
    const { key, tag } = fakeKey();
    const request = chatRequest("ok", tag, { json: true, responseSchema: schema, structuredOutput: true });
    await provider().complete(request, noAbort());
    const [sent] = await recordedRequests(key);
    expect(sent?.body).toMatchObject({
      response_format: { type: "json_schema", json_schema: { name: "step_output", schema, strict: false } },
      messages: request.messages,
    });
  });

  it("asks for json_object and puts the schema in the system prompt when the model does not", async () => {
    const { key, tag } = fakeKey();
    const request = chatRequest("ok", tag, { json: true, responseSchema: schema });
    await provider().complete(request, noAbort());
    const [sent] = await recordedRequests(key);
    const body = sent?.body as { response_format: unknown; messages: { role: string; content: string }[] };
    expect(body.response_format).toEqual({ type: "json_object" });
    expect(body.messages[0]?.role).toBe("system");
    expect(body.messages[0]?.content).toBe(
      `You are a test.\n\nReply with only a JSON value that matches this JSON Schema:\n${JSON.stringify(schema)}`,
    );
    expect(body.messages.slice(1)).toEqual(request.messages.slice(1));
  });
});
