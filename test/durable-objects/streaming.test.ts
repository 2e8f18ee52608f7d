// Tokens stream: a tenant's OpenAI-compatible provider that streams feeds the reply so far to
// watchExecution subscribers while the step runs, whether the execution object makes the call itself or a
// call runner does; only the final text is stored, and a stream that drops is a retryable failure.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { newTenant, type TestClient } from "../helpers/client";
import { waitForEnd } from "../helpers/executions";
import { watch } from "../helpers/watch";

/** A tenant whose provider "fake" is the loopback OpenAI-compatible server, with role "Writer" on `model`. */
async function streamingTenant(model: string) {
  const { trpc } = await newTenant("streaming");
  await trpc.provider.create.mutate({
    name: "fake",
    kind: "openai-compatible",
    baseUrl: env.OPENAI_BASE_URL ?? "",
    apiKey: "sk-streaming-test-1234",
    models: [
      { id: model, contextWindow: 32_000, priceIn: 1, priceOut: 2, capabilities: { streaming: true } },
    ],
  });
  await trpc.role.create.mutate({
    name: "Writer",
    basePrompt: "You write.",
    hyperparameters: { model: `fake:${model}` },
  });
  return trpc;
}

/** Every status the subscription pushes until the run ends. */
async function statusesOf(trpc: TestClient & { jar: { cookie?: string } }, executionId: string) {
  const next = await watch(trpc, executionId);
  const statuses: ExecutionStatus[] = [];
  for (let event = await next(); event; event = await next()) {
    if (event.event !== "message" || !event.data) continue;
    const status = JSON.parse(event.data) as ExecutionStatus;
    statuses.push(status);
    if (status.status !== "running" && status.status !== "pending") break;
  }
  return statuses;
}

const LINE = "[chunk-delay:30] the quick brown fox jumps over the lazy dog, twice over, slowly";

describe("streaming", () => {
  it.each([
    { where: "made by the execution object", branches: 1 },
    { where: "made by a call runner", branches: 6 },
  ])(
    "feeds the reply so far to watchers while a call $where streams; only the final text is stored",
    async ({ branches }) => {
      const trpc = await streamingTenant("stream");
      const steps = Array.from({ length: branches }, (_, i) => ({
        name: `Write ${i}`,
        roleName: "Writer",
        parallelGroup: "all",
        outputFormat: "text" as const,
        inputMapping: { line: LINE },
      }));
      const orchestration = await trpc.orchestrationManagement.create.mutate({ name: "Stream", steps });
      const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
      const statuses = await statusesOf(trpc, id);
      const ended = await waitForEnd(trpc, id);
      expect(ended.status).toBe("completed");

      // The last branch is beyond the object's own calls when there are six, so a runner streamed it.
      const index = branches - 1;
      const seen = statuses
        .map((status) => status.stepLogs[index]?.streamingText)
        .filter((text): text is string => typeof text === "string" && text.length > 0);
      expect(new Set(seen).size).toBeGreaterThanOrEqual(2);
      for (const [i, text] of seen.entries())
        if (i > 0) expect(text.startsWith(seen[i - 1] ?? "")).toBe(true);
      const final = ended.stepLogs[index];
      expect(final?.streamingText).toBeNull();
      expect(typeof final?.output).toBe("string");
      expect(String(final?.output).startsWith(seen.at(-1) ?? "")).toBe(true);
      expect(final?.attempts.map((a) => a.status)).toEqual(["succeeded"]);
      expect(final?.attempts[0]?.costUsd).toBeGreaterThan(0);
    },
  );

  it("takes a stream that drops mid-reply for a retryable failure", async () => {
    const trpc = await streamingTenant("streamdrop");
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Drop",
      steps: [
        { name: "Write", roleName: "Writer", maxRetries: 1, retryDelay: 0, inputMapping: { line: LINE } },
      ],
    });
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const ended = await waitForEnd(trpc, id);
    expect(ended.status).toBe("failed");
    const attempts = ended.stepLogs[0]?.attempts ?? [];
    expect(attempts.map((a) => a.status)).toEqual(["failed", "failed"]);
    expect(attempts[0]?.error).toContain("the stream ended before the reply was complete");
    expect(ended.stepLogs[0]?.streamingText).toBeNull();
  });
});
