// Executions whose roles use "openai:<behaviour>" run end to end — API, Durable Object, alarms, gateway —
// against the fake OpenAI-compatible server on loopback: retries, Retry-After, timeouts and usage.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { newTenant } from "../helpers/client";
import { waitFor, waitForEnd } from "../helpers/executions";
import { fakeKey, type RecordedRequest, recordedRequests } from "../helpers/fake-openai";

interface StepOptions {
  maxRetries?: number;
  retryDelay?: number;
  timeout?: number;
}

const BASE_PROMPT = "You are the Writer.";

/** Runs a one-step orchestration whose role's model is "openai:<behaviour>"; returns its end status. */
async function runAgainst(behaviour: string, step: StepOptions = {}) {
  const { trpc } = await newTenant();
  const { key, tag } = fakeKey();
  await trpc.role.create.mutate({
    name: "Writer",
    basePrompt: BASE_PROMPT,
    hyperparameters: { model: `openai:${behaviour}`, temperature: 0.1, maxTokens: 50 },
  });
  const orchestration = await trpc.orchestrationManagement.create.mutate({
    name: `OpenAI ${behaviour}`,
    steps: [{ name: "Write", roleName: "Writer", ...step }],
  });
  const execution = await trpc.orchestrationManagement.execute.mutate({
    orchestrationId: orchestration.id,
    input: { task: `write a haiku ${tag}` },
  });
  const status: ExecutionStatus = await waitForEnd(trpc, execution.id);
  return { status, key, attempts: status.stepLogs[0]?.attempts ?? [] };
}

function userMessageOf(request: RecordedRequest | undefined): string {
  const body = request?.body as { messages?: { role: string; content: string }[] } | undefined;
  return body?.messages?.find((m) => m.role === "user")?.content ?? "";
}

describe("executions against an OpenAI-compatible server", () => {
  it("completes with the server's reply and records the tokens it reported", async () => {
    const { status, key, attempts } = await runAgainst("ok");
    expect(status.status).toBe("completed");
    const [sent, ...others] = await recordedRequests(key);
    expect(others).toEqual([]);
    expect(sent).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      authorization: "Bearer test-key",
    });
    expect(sent?.body).toMatchObject({ model: "ok", temperature: 0.1, max_tokens: 50 });
    const user = userMessageOf(sent);
    expect(JSON.parse(user)).toEqual(attempts[0]?.input);
    expect(status.output).toEqual(attempts[0]?.input);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      status: "succeeded",
      model: "ok",
      tokensIn: BASE_PROMPT.length + user.length,
      tokensOut: user.length,
    });
  });

  it("retries a server that fails with 500 twice and completes on the third attempt", async () => {
    const { status, key, attempts } = await runAgainst("flaky500", { maxRetries: 2, retryDelay: 10 });
    expect(status.status).toBe("completed");
    expect(attempts.map((a) => a.status)).toEqual(["failed", "failed", "succeeded"]);
    for (const failed of attempts.slice(0, 2)) {
      expect(failed.errorKind).toBe("provider");
      expect(failed.error).toContain("answered 500");
      expect(failed.error).toContain("the fake upstream is flaky");
      expect(failed.tokensIn).toBeNull();
    }
    const sent = await recordedRequests(key);
    expect(sent.map((r) => r.status)).toEqual([500, 500, 200]);
    const user = userMessageOf(sent[2]);
    expect(attempts[2]).toMatchObject({
      error: null,
      tokensIn: BASE_PROMPT.length + user.length,
      tokensOut: user.length,
    });
  });

  it("waits as long as Retry-After asks (1 s) before retrying a 429, then completes", async () => {
    const { status, key, attempts } = await runAgainst("rate429", { maxRetries: 1, retryDelay: 10 });
    expect(status.status).toBe("completed");
    expect(attempts.map((a) => a.status)).toEqual(["failed", "succeeded"]);
    expect(attempts[0]).toMatchObject({ errorKind: "rate_limited" });
    expect(attempts[0]?.error).toContain("429");
    const gapMs = Date.parse(attempts[1]?.startedAt ?? "") - Date.parse(attempts[0]?.endedAt ?? "");
    expect(gapMs).toBeGreaterThanOrEqual(1000);
    expect((await recordedRequests(key)).map((r) => r.status)).toEqual([429, 200]);
  });

  it("fails a step whose server hangs past its timeout on every attempt, dropping each connection", async () => {
    const { status, key, attempts } = await runAgainst("hang", {
      timeout: 1000,
      maxRetries: 1,
      retryDelay: 10,
    });
    expect(status.status).toBe("failed");
    expect(status.error).toMatch(/^step "Write" failed after 2 attempts: .*timed out/);
    expect(attempts.map((a) => [a.status, a.errorKind])).toEqual([
      ["timed_out", "timeout"],
      ["timed_out", "timeout"],
    ]);
    for (const attempt of attempts) expect(attempt.durationMs).toBeGreaterThanOrEqual(1000);
    const sent = await waitFor(
      () => recordedRequests(key),
      (records) => records.length === 2 && records.every((r) => r.abortedByClient),
    );
    expect(sent.map((r) => r.status)).toEqual(["hanging", "hanging"]);
  });

  it("fails at once on a 400, without retrying", async () => {
    const { status, key, attempts } = await runAgainst("bad400", { maxRetries: 3, retryDelay: 10 });
    expect(status.status).toBe("failed");
    expect(status.error).toMatch(/^step "Write" failed after 1 attempt: the model provider answered 400/);
    expect(attempts.map((a) => a.status)).toEqual(["failed"]);
    expect(await recordedRequests(key)).toHaveLength(1);
  });

  it("retries a reply that is not JSON and fails naming the body once retries run out", async () => {
    const { status, key, attempts } = await runAgainst("malformed", { maxRetries: 1, retryDelay: 10 });
    expect(status.status).toBe("failed");
    expect(status.error).toMatch(
      /^step "Write" failed after 2 attempts: .*not JSON: <html>upstream proxy error/,
    );
    expect(attempts.map((a) => a.status)).toEqual(["failed", "failed"]);
    expect(await recordedRequests(key)).toHaveLength(2);
  });
});
