// contextLimits.maxContext and the model's window, enforced before the call: an input over the limit
// fails at once (no request leaves, no retry) with both numbers in the error, or, with onOverflow:
// "truncate", the step input is cut to fit and the call goes out.
import { describe, expect, it } from "vitest";
import { TRUNCATION_MARKER } from "../../worker/models/resolve-context";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { waitForEnd } from "../helpers/executions";
import { fakeKey, type RecordedRequest, recordedRequests } from "../helpers/fake-openai";
import { fakeProvider } from "../helpers/providers";

interface RoleLimits {
  model?: string;
  maxContext?: number;
  onOverflow?: "fail" | "truncate";
  maxTokens?: number;
}

const BASE_PROMPT = "You repeat.";

/** Runs one step of a role with these limits on `input`; returns the end status and its first attempt. */
async function runWith(trpc: TestClient, limits: RoleLimits, input: string) {
  await trpc.role.create.mutate({
    name: "Repeater",
    basePrompt: BASE_PROMPT,
    contextLimits: {
      minContext: 0,
      ...(limits.maxContext ? { maxContext: limits.maxContext } : {}),
      ...(limits.onOverflow ? { onOverflow: limits.onOverflow } : {}),
    },
    hyperparameters: {
      ...(limits.model ? { model: limits.model } : {}),
      ...(limits.maxTokens ? { maxTokens: limits.maxTokens } : {}),
    },
  });
  const flow = await trpc.orchestrationManagement.create.mutate({
    name: "Repeat",
    steps: [{ name: "Repeat", roleName: "Repeater", maxRetries: 2, retryDelay: 10 }],
  });
  const execution = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id, input });
  const status = await waitForEnd(trpc, execution.id);
  return { status, attempts: status.stepLogs[0]?.attempts ?? [] };
}

function userMessageOf(request: RecordedRequest | undefined): string {
  const body = request?.body as { messages?: { role: string; content: string }[] } | undefined;
  return body?.messages?.find((m) => m.role === "user")?.content ?? "";
}

describe("contextLimits.maxContext", () => {
  it("fails an input over the role's maxContext before any request, without retrying", async () => {
    const { trpc } = await newTenant("max-context");
    await fakeProvider(trpc, "mine", [{ id: "ok" }]);
    const { key, tag } = fakeKey();
    const { status, attempts } = await runWith(
      trpc,
      { model: "mine:ok", maxContext: 100 },
      `${tag} ${"x".repeat(1000)}`,
    );
    expect(status.status).toBe("failed");
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: "failed", errorKind: "config" });
    expect(attempts[0]?.error).toMatch(/the step input is about \d+ tokens, over the limit of 100 \(/);
    expect(attempts[0]?.error).toContain("contextLimits.maxContext is 100");
    expect(attempts[0]?.error).toContain('onOverflow: "truncate"');
    expect(await recordedRequests(key)).toEqual([]);
  });

  it("fails an input over what the model's window leaves after maxTokens, naming both numbers", async () => {
    const { trpc } = await newTenant("window");
    await fakeProvider(trpc, "mine", [{ id: "ok", contextWindow: 600 }]);
    const { key, tag } = fakeKey();
    const { status, attempts } = await runWith(
      trpc,
      { model: "mine:ok", maxTokens: 100 },
      `${tag} ${"y".repeat(4000)}`,
    );
    expect(status.status).toBe("failed");
    expect(attempts[0]?.error).toContain("over the limit of 500");
    expect(attempts[0]?.error).toContain('model "ok" reads 600 tokens, 500 after maxTokens 100');
    expect(await recordedRequests(key)).toEqual([]);
  });

  it("says when maxTokens leaves no room for any input in the model's window", async () => {
    const { trpc } = await newTenant("no-room");
    await fakeProvider(trpc, "mine", [{ id: "ok", contextWindow: 1000 }]);
    const { attempts } = await runWith(trpc, { model: "mine:ok", maxTokens: 1000 }, "hello");
    expect(attempts[0]?.error).toBe(
      'hyperparameters.maxTokens (1000) leaves no room for input in model "ok", whose context window is 1000 tokens; lower maxTokens',
    );
  });

  it('trims the step input to fit with onOverflow: "truncate", and the call goes out', async () => {
    const { trpc } = await newTenant("truncate");
    await fakeProvider(trpc, "mine", [{ id: "ok" }]);
    const { key, tag } = fakeKey();
    const { status } = await runWith(
      trpc,
      { model: "mine:ok", maxContext: 200, onOverflow: "truncate" },
      `${tag} ${"z".repeat(5000)}`,
    );
    expect(status.status).toBe("completed");
    const [sent] = await recordedRequests(key);
    const user = userMessageOf(sent);
    // The step input is { input: "<tag> zzz…" } as JSON: its start is kept, its end cut.
    expect(user.startsWith(`{\n  "input": "${tag} zzz`)).toBe(true);
    expect(user.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(BASE_PROMPT.length + user.length).toBeLessThanOrEqual(200 * 4);
    expect(BASE_PROMPT.length + user.length).toBeGreaterThan(200 * 4 - 10);
    expect(status.output).toBe(user);
  });

  it("holds the built-in local model, answered inline, to the same limit", async () => {
    const { trpc } = await newTenant("local");
    const { status, attempts } = await runWith(trpc, { maxContext: 50 }, "w".repeat(400));
    expect(status.status).toBe("failed");
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ errorKind: "config", model: null });
    expect(attempts[0]?.error).toContain("over the limit of 50");
    const fits = await runWith((await newTenant("local-ok")).trpc, { maxContext: 500 }, "w".repeat(400));
    expect(fits.status.status).toBe("completed");
  });

  it("stores onOverflow with the role and refuses a value that is not a policy", async () => {
    const { trpc } = await newTenant("policy");
    const role = await trpc.role.create.mutate({
      name: "Trimmer",
      basePrompt: "t",
      contextLimits: { onOverflow: "truncate" },
    });
    expect(role.contextLimits).toEqual({ minContext: 4096, maxContext: 128_000, onOverflow: "truncate" });
    const error = await errorOf(
      trpc.role.create.mutate({
        name: "Skipper",
        basePrompt: "s",
        contextLimits: { onOverflow: "skip" as "fail" },
      }),
    );
    expect(error).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "contextLimits.onOverflow", message: '"skip" is not one of fail, truncate' }],
    });
  });
});
