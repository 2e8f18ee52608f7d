import { describe, expect, it } from "vitest";
import { newTenant } from "../helpers/client";
import { scriptedModel, waitForEnd } from "../helpers/executions";

describe("execution smoke", () => {
  it("runs a two-step chain with a scripted model", async () => {
    const { trpc } = await newTenant();
    const model = scriptedModel(({ request }) =>
      JSON.stringify({ echo: request.messages.at(-1)?.content.length }),
    );
    await trpc.role.create.mutate({ name: "R", basePrompt: "be brief", hyperparameters: { model } });
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "chain",
      steps: [
        {
          name: "A",
          roleName: "R",
          inputMapping: { q: "{{context.input.q}}" },
          outputMapping: { a: "{{output}}" },
        },
        { name: "B", roleName: "R", inputMapping: { prev: "{{context.a}}" } },
      ],
    });
    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      input: { q: "hi" },
    });
    expect(started.id).toMatch(/^exe_/);
    const status = await waitForEnd(trpc, started.id);
    expect(status.status).toBe("completed");
    expect(status.stepLogs.map((s) => s.status)).toEqual(["completed", "completed"]);
    expect(status.context.a).toEqual({ echo: 15 });
  });
});
