// The Worker side of the fake OpenAI-compatible server (fake-openai-server.ts, started by globalSetup):
// its base URL as the Worker sees it, per-test keys and the requests it recorded. No state of its own.
import { env } from "cloudflare:workers";
import { openAiProvider } from "../../worker/models/openai";
import type { ModelReply, ModelRequest } from "../../worker/models/types";
import { waitFor } from "./executions";
import type { RecordedRequest } from "./fake-openai-record";

export type { RecordedRequest };

export function fakeOpenAiBaseUrl(): string {
  const baseUrl = env.OPENAI_BASE_URL;
  if (!baseUrl) throw new Error("OPENAI_BASE_URL is not bound: test/vitest.config.ts should set it");
  return baseUrl;
}

/** A fresh test key; put `tag` in a message so the server counts and records this test's calls apart. */
export function fakeKey(): { key: string; tag: string } {
  const key = crypto.randomUUID();
  return { key, tag: `[fake-key:${key}]` };
}

export async function recordedRequests(key: string): Promise<RecordedRequest[]> {
  const origin = new URL(fakeOpenAiBaseUrl()).origin;
  const response = await fetch(`${origin}/__requests?key=${encodeURIComponent(key)}`);
  return (await response.json()) as RecordedRequest[];
}

/** Waits until the server has recorded `count` requests for `key` (it records before it answers). */
export function waitForRequests(key: string, count: number): Promise<RecordedRequest[]> {
  return waitFor(
    () => recordedRequests(key),
    (records) => records.length >= count,
  );
}

export function chatRequest(
  model: string,
  user: string,
  overrides: Partial<ModelRequest> = {},
): ModelRequest {
  return {
    model,
    messages: [
      { role: "system", content: "You are a test." },
      { role: "user", content: user },
    ],
    temperature: 0.2,
    maxTokens: 64,
    json: false,
    ...overrides,
  };
}

/** The OpenAI-compatible provider pointed at the fake server, with a test key. */
export const fakeProvider = () => openAiProvider(fakeOpenAiBaseUrl(), "test-key");

export const noAbort = () => new AbortController().signal;

export function failureOf(reply: ModelReply) {
  if (reply.ok) throw new Error(`expected a failure, got the reply ${JSON.stringify(reply.text)}`);
  return reply.error;
}
