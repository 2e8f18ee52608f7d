// One hostile tenant runs every resource attack of issue 13 at once — a context that grows 4x a step, a
// meta role that executes its own orchestration twice per run, a backtracking regular expression, a
// 3 MB request body — while a second tenant runs the usage guide's examples and patterns. Each attack
// ends at its limit with a clear error; the second tenant's runs all complete.
import { afterEach, describe, expect, it } from "vitest";
import { codeReply, DESIGNER, metaTenant } from "../helpers/agent-code";
import { BASE_URL, newTenant, type TestClient, workerFetch } from "../helpers/client";
import { scriptedModel, waitFor, waitForEnd } from "../helpers/executions";
import { example2, example3, example4, guideRoleNames, patterns } from "../helpers/guide";

let stopped = false;
afterEach(() => {
  stopped = true;
});

/** Growth: each step maps four copies of `a` back into `a`, from a 1,000-character seed. */
function growthSteps() {
  const copies = "{{context.a}}".repeat(4);
  return [
    { name: "Seed", outputMapping: { a: "{{context.input.seed}}" } },
    ...Array.from({ length: 10 }, (_, i) => ({ name: `Grow ${i + 1}`, outputMapping: { a: copies } })),
  ];
}

async function hostileAttacks() {
  stopped = false;
  const hostile = await metaTenant("hostile");
  const { trpc } = hostile;
  // Recursion: the designer's code starts its own orchestration twice, every run.
  const model = scriptedModel((call) => {
    const turn = call.request.messages.filter((m) => m.role === "assistant").length;
    return turn > 0 || stopped
      ? "done"
      : codeReply(`await execute_orchestration({ orchestrationId: "Recursion" });
await execute_orchestration({ orchestrationId: "Recursion" });`);
  });
  await trpc.role.update.mutate({ roleId: hostile.designer.id, updates: { hyperparameters: { model } } });
  await trpc.role.create.mutate({ name: "Echo", basePrompt: "You echo." });
  const recursion = await trpc.orchestrationManagement.create.mutate({
    name: "Recursion",
    steps: [{ name: "Spawn", roleName: DESIGNER }],
  });
  const growth = await trpc.orchestrationManagement.create.mutate({
    name: "Growth",
    steps: growthSteps().map((step) => ({ ...step, roleName: "Echo" })),
  });
  const regex = await trpc.orchestrationManagement.create.mutate({
    name: "Backtracking",
    steps: [
      {
        name: "Only if all a",
        roleName: "Echo",
        condition: { field: "input.text", operator: "matches", value: "^(a+)+$" },
      },
    ],
  });

  const body = () =>
    workerFetch(`${BASE_URL}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.99" },
      body: JSON.stringify({ email: "x@example.com", password: "p".repeat(3 * 1024 * 1024) }),
    });
  const [grown, matched, bodies] = await Promise.all([
    trpc.orchestrationManagement.execute
      .mutate({ orchestrationId: growth.id, input: { seed: "x".repeat(1000) } })
      .then((run) => waitForEnd(trpc, run.id)),
    trpc.orchestrationManagement.execute
      .mutate({ orchestrationId: regex.id, input: { text: `${"a".repeat(40)}b` } })
      .then((run) => waitForEnd(trpc, run.id)),
    Promise.all(Array.from({ length: 5 }, body)),
    trpc.orchestrationManagement.execute.mutate({ orchestrationId: recursion.id }),
  ]);
  const runs = await waitFor(
    () => trpc.orchestrationManagement.listExecutions.query({ orchestrationId: recursion.id, limit: 200 }),
    ({ items }) =>
      items.length > 63 || (items.length === 63 && items.every((run) => run.finishedAt !== null)),
    { timeoutMs: 60_000, everyMs: 50 },
  );
  return { grown, matched, bodies, recursionRuns: runs.items };
}

async function guideRuns(trpc: TestClient) {
  for (const name of guideRoleNames)
    await trpc.role.create.mutate({ name, basePrompt: `You are the ${name}.` });
  const flows = [
    example2,
    example3,
    example4,
    ...Object.entries(patterns).map(([name, flow]) => ({ name, ...flow })),
  ];
  const ended = [];
  for (const flow of flows) {
    const created = await trpc.orchestrationManagement.create.mutate(flow);
    const run = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: created.id,
      input: { userRequest: "Add a login page", topic: "edge computing", problem: "sort a list" },
    });
    ended.push(await waitForEnd(trpc, run.id, 60_000));
  }
  return ended;
}

describe("a hostile tenant beside a well-behaved one", () => {
  it("every attack ends at its limit while the other tenant's guide runs all complete", async () => {
    const bystander = await newTenant("bystander");
    const [attacks, theirs] = await Promise.all([hostileAttacks(), guideRuns(bystander.trpc)]);

    // Growth: the step whose mapping would pass 256 KB fails with kind "limit"; the run ends failed.
    expect(attacks.grown.status).toBe("failed");
    const over = attacks.grown.stepLogs.find((log) => log.status === "failed");
    expect(over?.attempts.at(-1)).toMatchObject({ errorKind: "limit" });
    expect(attacks.grown.error).toMatch(/maxMappedValueChars|maxRunContextChars|maxStep/);
    // Regex: RE2 answers at once; 40 a's and a b do not match, so the step is skipped.
    expect(attacks.matched.status).toBe("completed");
    expect(attacks.matched.stepLogs[0]?.status).toBe("skipped");
    // Bodies: 413 before anything parses them.
    expect(attacks.bodies.map((response) => response.status)).toEqual([413, 413, 413, 413, 413]);
    // Recursion: 1 + 2 + 4 + 8 + 16 + 32 runs, then refused at maxRunDepth.
    expect(attacks.recursionRuns).toHaveLength(63);

    expect(theirs.map((run) => [run.orchestrationName, run.status])).toEqual(
      theirs.map((run) => [run.orchestrationName, "completed"]),
    );
    // 63 recursive runs, five request floods and the guide's runs: about 5 s on a loaded 2-core machine.
  }, 30_000);
});
