// A step's outputSchema in a run: a reply that matches completes the step with the parsed value; one
// that does not is a retryable failure whose attempt log names what is wrong and keeps the reply; a
// model that supports structured output is sent the schema as response_format json_schema.
import { describe, expect, it } from "vitest";
import { newTenant } from "../helpers/client";
import { waitForEnd } from "../helpers/executions";
import { fakeKey, fakeOpenAiBaseUrl, recordedRequests } from "../helpers/fake-openai";
import { orchestrationWith } from "../helpers/runs";

const SCORE = {
  type: "object",
  required: ["score"],
  properties: { score: { type: "number", minimum: 0, maximum: 10 } },
  additionalProperties: false,
};

/** A one-step run whose model gives `replies` in turn, with `maxRetries`. */
async function scoreRun(replies: string[], maxRetries: number) {
  const { trpc } = await newTenant("output-schema");
  let call = 0;
  const { orchestration } = await orchestrationWith(
    trpc,
    [{ name: "Score", outputSchema: SCORE, maxRetries, retryDelay: 0 }],
    () => replies[Math.min(call++, replies.length - 1)] ?? "",
  );
  const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
  return waitForEnd(trpc, id);
}

describe("outputSchema", () => {
  it("holds the built-in local model's replies to it too: a reply without the field fails the step", async () => {
    const { trpc } = await newTenant("output-schema-local");
    await trpc.role.create.mutate({ name: "Local Scorer", basePrompt: "Score it." });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Local score",
      steps: [{ name: "Score", roleName: "Local Scorer", outputSchema: SCORE, maxRetries: 0 }],
    });
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });
    const ended = await waitForEnd(trpc, id);
    expect(ended.status).toBe("failed");
    expect(ended.stepLogs[0]?.error).toMatch(/the reply does not match outputSchema: .*score/);
  });

  it("completes a step whose reply matches, with the parsed value", async () => {
    const ended = await scoreRun(['{"score": 7}'], 0);
    expect(ended.status).toBe("completed");
    expect(ended.stepLogs[0]?.output).toEqual({ score: 7 });
    expect(ended.output).toEqual({ score: 7 });
  });

  it("retries a reply that does not match, logging why and the reply, then completes", async () => {
    const ended = await scoreRun(['{"score": 11}', '{"score": 3}'], 1);
    expect(ended.status).toBe("completed");
    const [refused, accepted] = ended.stepLogs[0]?.attempts ?? [];
    expect(refused).toMatchObject({ status: "failed", errorKind: "invalid_output", output: '{"score": 11}' });
    expect(refused?.error).toContain("the reply does not match outputSchema");
    expect(refused?.error).toContain("score");
    expect(accepted?.status).toBe("succeeded");
    expect(ended.output).toEqual({ score: 3 });
  });

  it("fails the step when no attempt matches, naming the last problem", async () => {
    const ended = await scoreRun(["not json at all", '{"grade": "A"}'], 1);
    expect(ended.status).toBe("failed");
    expect(ended.stepLogs[0]?.attempts.map((a) => a.status)).toEqual(["failed", "failed"]);
    expect(ended.error).toContain('step "Score" failed after 2 attempts');
    expect(ended.error).toContain("score");
  });

  it("sends the schema as response_format json_schema to a model with structured output", async () => {
    const { trpc } = await newTenant("output-schema");
    const { key, tag } = fakeKey();
    await trpc.provider.create.mutate({
      name: "fake",
      kind: "openai-compatible",
      baseUrl: fakeOpenAiBaseUrl(),
      apiKey: "sk-structured-1234",
      models: [
        {
          id: "ok",
          contextWindow: 32_000,
          priceIn: 0.5,
          priceOut: 1.5,
          capabilities: { structuredOutput: true, streaming: false },
        },
      ],
    });
    await trpc.role.create.mutate({
      name: "Scorer",
      basePrompt: "Score it.",
      hyperparameters: { model: "fake:ok" },
    });
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Structured",
      steps: [{ name: "Score", roleName: "Scorer", outputSchema: SCORE, inputMapping: { score: 4, tag } }],
    });
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const ended = await waitForEnd(trpc, id);

    const [sent] = await recordedRequests(key);
    expect((sent?.body as { response_format?: unknown } | undefined)?.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "step_output", schema: SCORE, strict: false },
    });
    // The fake server echoes the user message, which carries a "tag" the schema does not allow.
    expect(ended.status).toBe("failed");
    expect(ended.stepLogs[0]?.attempts[0]?.error).toContain("tag");
  });
});
