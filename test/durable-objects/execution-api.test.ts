// The execution procedures — execute, getExecutionStatus, cancel, listExecutions — through the real tRPC
// client, Worker, D1 and Durable Objects with real alarms: what they return, what they refuse, what they
// pin, and the D1 index they keep.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { IDEMPOTENCY_WINDOW_MS } from "../../worker/db/executions";
import { EXECUTION_INPUT_MAX_BYTES } from "../../worker/schemas/execution";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { countRows, rowsOf } from "../helpers/db";
import { waitFor, waitForEnd } from "../helpers/executions";
import {
  ageExecution,
  gate,
  orchestrationWith,
  stepInputOf,
  type TERMINAL_STATUSES,
  untilAborted,
} from "../helpers/runs";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** "exe_" and 26 base32 characters: 130 random bits. */
const EXECUTION_ID = /^exe_[0-9a-hjkmnp-tv-z]{26}$/;

const statusOf = (trpc: TestClient, executionId: string) =>
  trpc.orchestrationManagement.getExecutionStatus.query({ executionId }) as Promise<ExecutionStatus>;

const executionRows = (tenantId: string) => rowsOf("executions", "tenant_id = ?", tenantId);

/** Waits until the named step has an attempt in flight. */
const waitForRunningStep = (trpc: TestClient, executionId: string, step: number) =>
  waitFor(
    () => statusOf(trpc, executionId),
    (status) => status.stepLogs[step]?.attempts.at(-1)?.status === "running",
  );

describe("execute", () => {
  it("returns at once, while the first step still runs, with an unguessable exe_ id", async () => {
    const { trpc } = await newTenant();
    const release = gate<string>();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Slow" }], () => release.promise);

    const first = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      input: { n: 1 },
    });
    const second = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      input: { n: 2 },
    });

    expect(["pending", "running"]).toContain(first.status);
    expect(first.id).toMatch(EXECUTION_ID);
    expect(second.id).toMatch(EXECUTION_ID);
    expect(second.id).not.toBe(first.id);
    await waitForRunningStep(trpc, first.id, 0);
    release.open("finished");
    expect((await waitForEnd(trpc, first.id)).status).toBe("completed");
    expect((await waitForEnd(trpc, second.id)).status).toBe("completed");
  });

  it("reports id, orchestration, status, input, context, output, timings and one stepLog per step", async () => {
    const { trpc } = await newTenant();
    const { orchestration, model } = await orchestrationWith(
      trpc,
      [
        {
          name: "Draft",
          inputMapping: { topic: "{{context.input.topic}}" },
          outputMapping: { draft: "{{output}}" },
        },
        { name: "Polish", inputMapping: { text: "{{context.draft.text}}" } },
      ],
      (call) => {
        const input = stepInputOf(call);
        const text = input.topic ? `about ${input.topic}` : `polished ${input.text}`;
        return {
          ok: true,
          text: JSON.stringify({ text }),
          usage: { model: "ignored", tokensIn: 12, tokensOut: 34, costUsd: 0 },
        };
      },
      { name: "Status report" },
    );

    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      input: { topic: "owls" },
    });
    const status = await waitForEnd(trpc, started.id);

    expect(status).toMatchObject({
      id: started.id,
      orchestrationId: orchestration.id,
      orchestrationName: "Status report",
      orchestrationVersion: 1,
      status: "completed",
      input: { topic: "owls" },
      context: {
        input: { topic: "owls" },
        Draft: { text: "about owls" },
        draft: { text: "about owls" },
        Polish: { text: "polished about owls" },
      },
      output: { text: "polished about owls" },
      error: null,
    });
    expect(status.startedAt).toMatch(ISO);
    expect(status.finishedAt).toMatch(ISO);
    expect(status.durationMs).toBe(Date.parse(status.finishedAt ?? "") - Date.parse(status.startedAt ?? ""));
    expect(status.stepLogs.map((log) => [log.name, log.status, log.warnings])).toEqual([
      ["Draft", "completed", []],
      ["Polish", "completed", []],
    ]);
    const attempts = status.stepLogs.map((log) => log.attempts);
    expect(attempts.map((list) => list.length)).toEqual([1, 1]);
    expect(attempts[0]?.[0]).toMatchObject({
      attempt: 1,
      status: "succeeded",
      error: null,
      model,
      tokensIn: 12,
      tokensOut: 34,
      input: { topic: "owls" },
      output: { text: "about owls" },
    });
    expect(attempts[1]?.[0]).toMatchObject({
      input: { text: "about owls" },
      output: { text: "polished about owls" },
    });
    for (const attempt of attempts.flat()) {
      expect(attempt.startedAt).toMatch(ISO);
      expect(attempt.endedAt).toMatch(ISO);
    }
  });

  it("refuses an inactive orchestration with PRECONDITION_FAILED and writes no execution", async () => {
    const { trpc, tenant } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Only" }], () => "never", {
      isActive: false,
    });

    const error = await errorOf(
      trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id }),
    );

    expect(error.code).toBe("PRECONDITION_FAILED");
    expect(error.message).toContain("inactive");
    expect(error.issues).toEqual([{ path: "orchestrationId", message: "is inactive" }]);
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(0);
  });

  it("refuses a step whose role does not exist, naming the role and steps[i].roleName, and writes no execution", async () => {
    const { trpc, tenant } = await newTenant();
    const quoted = 'The "Other" One';
    const { orchestration } = await orchestrationWith(
      trpc,
      [
        { name: "Known" },
        { name: "Ghostly", roleName: "Ghost" },
        { name: "Haunt", roleName: quoted },
        { name: "Again", roleName: "Ghost" },
      ],
      () => "never",
    );

    const error = await errorOf(
      trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id }),
    );

    expect(error.code).toBe("PRECONDITION_FAILED");
    expect(error.message).toContain(`missing role(s) "Ghost", ${JSON.stringify(quoted)}`);
    expect(error.issues).toEqual([
      { path: "steps[1].roleName", message: 'role "Ghost" does not exist; create it first' },
      { path: "steps[2].roleName", message: `role "${quoted}" does not exist; create it first` },
      { path: "steps[3].roleName", message: 'role "Ghost" does not exist; create it first' },
    ]);
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(0);
  });

  it("answers NOT_FOUND for an orchestration id that does not exist", async () => {
    const { trpc, tenant } = await newTenant();

    const error = await errorOf(
      trpc.orchestrationManagement.execute.mutate({ orchestrationId: "orc_doesnotexist" }),
    );

    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("orc_doesnotexist");
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(0);
  });

  it.each([
    { problem: "an empty orchestrationId", field: "orchestrationId", input: { orchestrationId: "" } },
    { problem: "a numeric orchestrationId", field: "orchestrationId", input: { orchestrationId: 42 } },
    {
      problem: "an empty idempotencyKey",
      field: "idempotencyKey",
      input: { orchestrationId: "orc_x", idempotencyKey: "" },
    },
    {
      problem: "an idempotencyKey over 200 characters",
      field: "idempotencyKey",
      input: { orchestrationId: "orc_x", idempotencyKey: "k".repeat(201) },
    },
    {
      problem: "an input over the size limit",
      field: "input",
      input: { orchestrationId: "orc_x", input: { blob: "x".repeat(EXECUTION_INPUT_MAX_BYTES) } },
    },
    { problem: "an unknown field", field: "", input: { orchestrationId: "orc_x", tenantId: "someone else" } },
  ])("refuses $problem with BAD_REQUEST naming the field", async ({ field, input }) => {
    const { trpc, tenant } = await newTenant();

    const error = await errorOf(trpc.orchestrationManagement.execute.mutate(input as never));

    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues.map((issue) => issue.path)).toEqual([field]);
    expect(error.message).toContain(
      field || '"tenantId"; the fields are orchestrationId, version, input, idempotencyKey',
    );
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(0);
  });
});

describe("tenancy", () => {
  it("treats another tenant's orchestration as NOT_FOUND and writes no execution", async () => {
    const owner = await newTenant("owner");
    const stranger = await newTenant("stranger");
    const { orchestration } = await orchestrationWith(owner.trpc, [{ name: "Mine" }], () => "never");

    const error = await errorOf(
      stranger.trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id }),
    );

    expect(error.code).toBe("NOT_FOUND");
    expect(await countRows("executions", "tenant_id in (?, ?)", owner.tenant.id, stranger.tenant.id)).toBe(0);
  });

  it("treats another tenant's execution as NOT_FOUND for getExecutionStatus and cancel, and leaves it running", async () => {
    const owner = await newTenant("owner");
    const stranger = await newTenant("stranger");
    const release = gate<string>();
    const { orchestration } = await orchestrationWith(owner.trpc, [{ name: "Mine" }], () => release.promise);
    const { id } = await owner.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
    });
    await waitForRunningStep(owner.trpc, id, 0);

    const read = await errorOf(statusOf(stranger.trpc, id));
    const cancel = await errorOf(stranger.trpc.orchestrationManagement.cancel.mutate({ executionId: id }));
    const listed = await stranger.trpc.orchestrationManagement.listExecutions.query({});

    expect([read.code, cancel.code]).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    expect(listed.items).toEqual([]);
    expect((await statusOf(owner.trpc, id)).status).toBe("running");
    release.open("done");
    expect((await waitForEnd(owner.trpc, id)).status).toBe("completed");
  });

  it("answers NOT_FOUND for an execution id that does not exist", async () => {
    const { trpc } = await newTenant();
    const executionId = "exe_0000000000000000000000000";
    expect((await errorOf(statusOf(trpc, executionId))).code).toBe("NOT_FOUND");
    expect((await errorOf(trpc.orchestrationManagement.cancel.mutate({ executionId }))).code).toBe(
      "NOT_FOUND",
    );
  });
});

describe("version pinning", () => {
  it("keeps running the orchestration version it started with when the orchestration is updated", async () => {
    const { trpc, tenant } = await newTenant();
    const release = gate<string>();
    const asked: string[] = [];
    // Each step names itself in its input, so the model's log shows which definition ran.
    const labelled = (name: string) => ({ name, inputMapping: { step: name } });
    const { orchestration } = await orchestrationWith(
      trpc,
      [labelled("First"), labelled("Second")],
      (call) => {
        const step = String(stepInputOf(call).step);
        asked.push(step);
        return step === "First" ? release.promise : `reply from ${step}`;
      },
    );
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    await waitForRunningStep(trpc, id, 0);

    const updated = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: { steps: [{ ...labelled("Replacement"), roleName: "Worker" }] },
    });
    const midRun = await statusOf(trpc, id);
    release.open("first done");
    const status = await waitForEnd(trpc, id);

    expect(updated.version).toBe(2);
    expect(midRun.orchestrationVersion).toBe(1);
    expect(status.status).toBe("completed");
    expect(status.orchestrationVersion).toBe(1);
    expect(status.stepLogs.map((log) => [log.name, log.status])).toEqual([
      ["First", "completed"],
      ["Second", "completed"],
    ]);
    expect(asked).toEqual(["First", "Second"]);
    expect((await executionRows(tenant.id)).map((row) => row.orchestration_version)).toEqual([1]);

    const next = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    expect(next.orchestrationVersion).toBe(2);
    expect(next.stepLogs.map((log) => log.name)).toEqual(["Replacement"]);
    expect((await waitForEnd(trpc, next.id)).status).toBe("completed");
    expect(asked).toEqual(["First", "Second", "Replacement"]);
  });

  it("keeps the role as it was at start when the role is updated mid-run", async () => {
    const { trpc } = await newTenant();
    const release = gate<string>();
    const prompts: string[] = [];
    const { orchestration, role } = await orchestrationWith(
      trpc,
      [{ name: "A" }, { name: "B" }],
      ({ request }) => {
        prompts.push(request.messages[0]?.content ?? "");
        return prompts.length === 1 ? release.promise : "second";
      },
    );
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    await waitForRunningStep(trpc, id, 0);

    await trpc.role.update.mutate({ roleId: role.id, updates: { basePrompt: "You are someone else now." } });
    release.open("first");
    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    expect(prompts).toEqual(["You are Worker.", "You are Worker."]);
  });
});

describe("idempotencyKey", () => {
  it("returns the same execution for the same key and stores one row", async () => {
    const { trpc, tenant } = await newTenant();
    let calls = 0;
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Once" }], () => `call ${++calls}`);
    const request = { orchestrationId: orchestration.id, input: { q: 1 }, idempotencyKey: "order-42" };

    const first = await trpc.orchestrationManagement.execute.mutate(request);
    await waitForEnd(trpc, first.id);
    const again = await trpc.orchestrationManagement.execute.mutate(request);

    expect(again.id).toBe(first.id);
    expect(again.status).toBe("completed");
    expect(calls).toBe(1);
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(1);
  });

  it("returns one execution to concurrent requests with the same key", async () => {
    const { trpc, tenant } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Once" }], () => "ok");
    const request = { orchestrationId: orchestration.id, idempotencyKey: "burst" };

    const results = await Promise.all(
      Array.from({ length: 8 }, () => trpc.orchestrationManagement.execute.mutate(request)),
    );

    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(1);
    expect((await waitForEnd(trpc, results[0]?.id ?? "")).status).toBe("completed");
  });

  it("starts another execution for a different key, or for no key", async () => {
    const { trpc, tenant } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Once" }], () => "ok");
    const orchestrationId = orchestration.id;

    const a = await trpc.orchestrationManagement.execute.mutate({ orchestrationId, idempotencyKey: "a" });
    const b = await trpc.orchestrationManagement.execute.mutate({ orchestrationId, idempotencyKey: "b" });
    const none = await trpc.orchestrationManagement.execute.mutate({ orchestrationId });

    expect(new Set([a.id, b.id, none.id]).size).toBe(3);
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(3);
  });

  it("lets a key older than 24 hours start a new execution", async () => {
    const { trpc, tenant } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Once" }], () => "ok");
    const request = { orchestrationId: orchestration.id, idempotencyKey: "daily" };
    const old = await trpc.orchestrationManagement.execute.mutate(request);
    await waitForEnd(trpc, old.id);

    await ageExecution(old.id, IDEMPOTENCY_WINDOW_MS - 60_000);
    const withinWindow = await trpc.orchestrationManagement.execute.mutate(request);
    await ageExecution(old.id, 2 * 60_000);
    const fresh = await trpc.orchestrationManagement.execute.mutate(request);
    const repeat = await trpc.orchestrationManagement.execute.mutate(request);

    expect(withinWindow.id).toBe(old.id);
    expect(fresh.id).not.toBe(old.id);
    expect(repeat.id).toBe(fresh.id);
    expect((await waitForEnd(trpc, fresh.id)).status).toBe("completed");
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(2);
    expect(await statusOf(trpc, old.id)).toMatchObject({ id: old.id, status: "completed" });
  });

  it("answers a retried request with the execution it started, even after the orchestration was deactivated", async () => {
    const { trpc, tenant } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Once" }], () => "ok");
    const request = { orchestrationId: orchestration.id, idempotencyKey: "retry-me" };
    const first = await trpc.orchestrationManagement.execute.mutate(request);
    await waitForEnd(trpc, first.id);

    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: { isActive: false },
    });
    const retried = await trpc.orchestrationManagement.execute.mutate(request);

    expect(retried).toMatchObject({ id: first.id, status: "completed" });
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(1);
  });

  it("refuses a key already used for another orchestration with CONFLICT naming idempotencyKey", async () => {
    const { trpc, tenant } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Once" }], () => "ok", {
      name: "First",
    });
    const other = await trpc.orchestrationManagement.create.mutate({
      name: "Second",
      steps: [{ name: "Once", roleName: "Worker" }],
    });
    await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      idempotencyKey: "k1",
    });

    const error = await errorOf(
      trpc.orchestrationManagement.execute.mutate({ orchestrationId: other.id, idempotencyKey: "k1" }),
    );

    expect(error.code).toBe("CONFLICT");
    expect(error.issues.map((issue) => issue.path)).toEqual(["idempotencyKey"]);
    expect(error.message).toContain('"First"');
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(1);
  });

  it("scopes keys to the tenant", async () => {
    const one = await newTenant("one");
    const two = await newTenant("two");
    const first = await orchestrationWith(one.trpc, [{ name: "Once" }], () => "ok");
    const second = await orchestrationWith(two.trpc, [{ name: "Once" }], () => "ok");

    const a = await one.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: first.orchestration.id,
      idempotencyKey: "shared",
    });
    const b = await two.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: second.orchestration.id,
      idempotencyKey: "shared",
    });

    expect(b.id).not.toBe(a.id);
    expect(b.orchestrationId).toBe(second.orchestration.id);
  });
});

describe("listExecutions", () => {
  it("pages through executions newest first with nextCursor", async () => {
    const { trpc } = await newTenant();
    const { orchestration } = await orchestrationWith(trpc, [{ name: "Once" }], () => "ok");
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push(
        (
          await trpc.orchestrationManagement.execute.mutate({
            orchestrationId: orchestration.id,
            input: { i },
          })
        ).id,
      );
    }

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await trpc.orchestrationManagement.listExecutions.query({
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      pages.push(page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);

    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(created.toReversed());
  });

  it("lists a run with the status execute answered, at once (the object writes the row as it starts)", async () => {
    const { trpc } = await newTenant();
    const local = await trpc.orchestrationManagement.create.mutate({
      name: "Local fan-out",
      steps: [{ name: "A", parallelGroup: "fan" }, { name: "B", parallelGroup: "fan" }, { name: "Join" }],
    });
    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: local.id,
      input: {},
    });
    expect(started.status).toBe("completed"); // the local model answered inside execute

    const listed = await trpc.orchestrationManagement.listExecutions.query({ status: "completed" });
    expect(listed.items.map((item) => [item.id, item.status])).toEqual([[started.id, "completed"]]);
  });

  it("filters by orchestrationId and status, with D1's status converging to each run's", async () => {
    const { trpc, tenant } = await newTenant();
    const hold = gate<string>();
    const model = async (call: Parameters<Parameters<typeof orchestrationWith>[2]>[0]) => {
      const outcome = stepInputOf(call).outcome;
      if (outcome === "fail")
        return {
          ok: false as const,
          error: { kind: "provider" as const, message: "boom", retryable: false },
        };
      if (outcome === "hold") return Promise.race([hold.promise, untilAborted(call.signal)]);
      return "fine";
    };
    const { orchestration: flowA } = await orchestrationWith(
      trpc,
      [{ name: "S", inputMapping: { outcome: "{{context.input.outcome}}" } }],
      model,
      { name: "A" },
    );
    const flowB = await trpc.orchestrationManagement.create.mutate({
      name: "B",
      steps: [{ name: "S", roleName: "Worker", inputMapping: { outcome: "{{context.input.outcome}}" } }],
    });
    const run = (orchestrationId: string, outcome: string) =>
      trpc.orchestrationManagement.execute.mutate({ orchestrationId, input: { outcome } }).then((e) => e.id);
    const completed = await run(flowA.id, "ok");
    const failed = await run(flowA.id, "fail");
    const cancelled = await run(flowB.id, "hold");
    const running = await run(flowB.id, "hold");
    await waitForRunningStep(trpc, cancelled, 0);
    await trpc.orchestrationManagement.cancel.mutate({ executionId: cancelled });
    await waitForRunningStep(trpc, running, 0);

    const byStatus = async (status: (typeof TERMINAL_STATUSES)[number] | "running") =>
      (await trpc.orchestrationManagement.listExecutions.query({ status })).items.map((item) => item.id);
    await waitFor(
      () =>
        Promise.all([byStatus("completed"), byStatus("failed"), byStatus("cancelled"), byStatus("running")]),
      (lists) => lists.every((list) => list.length === 1),
    );
    expect(await byStatus("completed")).toEqual([completed]);
    expect(await byStatus("failed")).toEqual([failed]);
    expect(await byStatus("cancelled")).toEqual([cancelled]);
    expect(await byStatus("running")).toEqual([running]);
    const inA = await trpc.orchestrationManagement.listExecutions.query({ orchestrationId: flowA.id });
    expect(inA.items.map((item) => item.id)).toEqual([failed, completed]);
    const cancelledInA = await trpc.orchestrationManagement.listExecutions.query({
      orchestrationId: flowA.id,
      status: "cancelled",
    });
    expect(cancelledInA.items).toEqual([]);

    const failedItem = inA.items[0];
    expect(failedItem).toMatchObject({ orchestrationName: "A", orchestrationVersion: 1, status: "failed" });
    expect(failedItem?.error).toContain("boom");
    const stored = await executionRows(tenant.id);
    for (const id of [completed, failed, cancelled]) {
      const status = await statusOf(trpc, id);
      const row = stored.find((r) => r.id === id);
      expect(row?.status).toBe(status.status);
      expect(row?.finished_at).toBe(Date.parse(status.finishedAt ?? ""));
    }
    hold.open("released");
    expect((await waitForEnd(trpc, running)).status).toBe("completed");
  });

  it("refuses a limit out of range and a malformed cursor, naming the field", async () => {
    const { trpc } = await newTenant();
    const tooMany = await errorOf(trpc.orchestrationManagement.listExecutions.query({ limit: 201 }));
    const malformed = await errorOf(trpc.orchestrationManagement.listExecutions.query({ cursor: "page-2" }));
    expect([tooMany.code, tooMany.issues[0]?.path]).toEqual(["BAD_REQUEST", "limit"]);
    expect([malformed.code, malformed.issues[0]?.path]).toEqual(["BAD_REQUEST", "cursor"]);
  });
});
