// The typed client library against a real `wrangler dev`: run() follows a run to its final status over
// the watchExecution stream (and survives the stream dropping), reports each step change, and surfaces
// API errors with their code and field issues.
import { beforeAll, describe, expect, inject, it } from "vitest";
import {
  apiErrorOf,
  createTroupeClient,
  type RunStatus,
  run,
  type StepChange,
  type TroupeClient,
  watchExecution,
} from "../../client/src/index.ts";
import { newTenantKey } from "./helpers-cli.ts";

const url = inject("devServerUrl");
let apiKey: string;
let client: TroupeClient;
let role: string;

const unique = (name: string) => `${name} ${crypto.randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  ({ apiKey } = await newTenantKey(url, "Client"));
  client = createTroupeClient({ url, apiKey });
  role = unique("Writer");
  await client.role.create.mutate({ name: role, basePrompt: "You write short answers." });
});

/** An orchestration that sleeps `ms`, then has the role write: a run that lasts long enough to watch. */
async function napThenWrite(ms: number) {
  return client.orchestrationManagement.create.mutate({
    name: unique("Nap Then Write"),
    steps: [
      { name: "Nap", stepType: "sleep", duration: ms },
      { name: "Write", roleName: role, inputMapping: { topic: "{{context.input.topic}}" } },
    ],
  });
}

function statusesByStep(changes: StepChange[]) {
  const byStep: Record<string, string[]> = {};
  for (const { step } of changes) {
    const seen = byStep[step.name] ?? [];
    seen.push(step.status);
    byStep[step.name] = seen;
  }
  return byStep;
}

describe("run()", () => {
  it("resolves with the final status and calls onStep for each step change", async () => {
    const flow = await napThenWrite(1000);
    const changes: StepChange[] = [];
    const final = await run(
      client,
      flow.name,
      { topic: "edges" },
      { onStep: (change) => changes.push(change) },
    );
    expect(final.status).toBe("completed");
    expect(final.input).toEqual({ topic: "edges" });
    expect(JSON.stringify(final.output)).toContain("edges");
    const byStep = statusesByStep(changes);
    expect(byStep.Nap).toEqual(["waiting", "completed"]);
    expect(byStep.Write?.at(0)).toBe("pending");
    expect(byStep.Write?.at(-1)).toBe("completed");
    // The timer the step waited on was visible while it waited.
    expect(changes.find((c) => c.step.name === "Nap" && c.step.status === "waiting")?.step.wait?.kind).toBe(
      "timer",
    );
    // Each change says what came before it.
    const napDone = changes.find((c) => c.step.name === "Nap" && c.step.status === "completed");
    expect(napDone?.previous?.status).toBe("waiting");
  });

  it("is also the client's own method, as `troupe.run(orchestration, input, { onStep })`, beside every procedure", async () => {
    const flow = await napThenWrite(200);
    const steps: string[] = [];
    const final = await client.run(
      flow.name,
      { topic: "methods" },
      { onStep: ({ step }) => steps.push(step.name) },
    );
    expect(final.status).toBe("completed");
    expect(steps).toEqual(expect.arrayContaining(["Nap", "Write"]));
    expect((await client.watchExecution(final.id)).status).toBe("completed");
    // The procedures are still there, typed, next to the helpers.
    const page = await client.orchestrationManagement.list.query({});
    expect(page.items.map((item) => item.name)).toContain(flow.name);
  });

  it("still reaches the final status when the event stream drops mid-run", async () => {
    const flow = await napThenWrite(1500);
    const watches: string[] = [];
    // The first watchExecution stream breaks right after its first status; later ones pass through.
    const flaky: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const target = String(input instanceof Request ? input.url : input);
      if (!target.includes("watchExecution")) return response;
      watches.push(target);
      if (watches.length > 1 || !response.body) return response;
      const reader = response.body.getReader();
      const broken = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const chunk = await reader.read();
          if (chunk.done) return controller.close();
          controller.enqueue(chunk.value);
          if (new TextDecoder().decode(chunk.value).includes("stepLogs")) {
            void reader.cancel();
            controller.error(new Error("connection reset"));
          }
        },
      });
      return new Response(broken, { status: response.status, headers: response.headers });
    };
    const seen: RunStatus[] = [];
    const final = await run(
      createTroupeClient({ url, apiKey, fetch: flaky }),
      flow.id,
      {},
      {
        onStatus: (status) => seen.push(status.status),
      },
    );
    expect(final.status).toBe("completed");
    expect(watches.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toBe("completed");
  });

  it("rejects with the API's code and field issues, and starts nothing", async () => {
    const flow = await napThenWrite(1000);
    const refused = await run(client, flow.id, {}, { budget: { maxTokens: 0 } }).catch((error) => error);
    expect(apiErrorOf(refused)).toMatchObject({
      code: "BAD_REQUEST",
      httpStatus: 400,
      issues: [{ path: "budget.maxTokens", message: "must be at least 1" }],
    });
    const listed = await client.orchestrationManagement.listExecutions.query({ orchestrationId: flow.id });
    expect(listed.items).toEqual([]);

    const missing = await run(client, unique("No Such Flow"), {}).catch((error) => error);
    expect(apiErrorOf(missing)).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
  });

  it("stops watching when its signal aborts; the run goes on", async () => {
    const flow = await napThenWrite(600_000);
    const stop = new AbortController();
    const watching = run(
      client,
      flow.id,
      {},
      {
        signal: stop.signal,
        onStep: ({ step }) => {
          if (step.status === "waiting") stop.abort(new Error("enough"));
        },
      },
    );
    await expect(watching).rejects.toThrow("enough");
    const [execution] = (
      await client.orchestrationManagement.listExecutions.query({ orchestrationId: flow.id })
    ).items;
    expect(execution?.status).toBe("running");
    const id = execution?.id ?? "";
    // watchExecution follows an execution already started; cancelling it ends the watch.
    const followed = watchExecution(client, id);
    await client.orchestrationManagement.cancel.mutate({ executionId: id });
    expect((await followed).status).toBe("cancelled");
  });
});

describe("createTroupeClient", () => {
  it("sends the API key as a bearer token; a wrong key is UNAUTHORIZED", async () => {
    const me = await client.auth.me.query();
    expect(me.via).toBe("apiKey");
    const wrong = createTroupeClient({ url: `${url}/trpc`, apiKey: "trp_wrongwrongwrong" });
    const refused = await wrong.auth.me.query().catch((error) => error);
    expect(apiErrorOf(refused)?.code).toBe("UNAUTHORIZED");
    const unreachable = createTroupeClient({ url: "http://127.0.0.1:9", apiKey });
    expect(apiErrorOf(await unreachable.auth.me.query().catch((error) => error))?.code).toBe("UNREACHABLE");
  });
});
