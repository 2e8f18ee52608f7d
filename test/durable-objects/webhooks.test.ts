// Outbound webhooks end to end: a run's end (or an approval that begins waiting) is written in the same
// commit as the decision, handed to the tenant's dispatcher object and POSTed to a real HTTP receiver on
// loopback, signed; 5xx, timeouts and refused connections are retried with growing back-off driven by the
// dispatcher's alarm, a 400 or a 3xx is not; a crash between the end and the hand-off still delivers;
// state written before webhooks existed still finishes and delivers.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { armFault } from "../../durable-objects/execution/fault-points";
import { RETRY_WINDOW_MS } from "../../durable-objects/webhooks/backoff";
import { webhookDispatcher } from "../../durable-objects/webhooks/client";
import { endEvent, WEBHOOK_OUTPUT_MAX_CHARS } from "../../durable-objects/webhooks/event";
import type { PendingDelivery } from "../../durable-objects/webhooks/object";
import { newTenant } from "../helpers/client";
import { flowWith, runToEnd, startRun, waitForStep } from "../helpers/control-flow";
import { chain, crashed, crashRig, pendingAlarm, pickUp, statusOf, waitForEnd } from "../helpers/crash";
import { countRows } from "../helpers/db";
import { waitFor } from "../helpers/executions";
import { providerFailure, untilAborted } from "../helpers/runs";
import { plantV2Execution } from "../helpers/v2-state";
import {
  deliveriesOf,
  dispatcherObject,
  dispatcherState,
  hookFor,
  independentSignature,
  newReceiverKey,
  receivedBy,
  receiverUrl,
  runDispatcherAlarm,
  runRetriesNow,
  scriptReceiver,
  waitForAttempts,
  waitForReceived,
} from "../helpers/webhooks";

/** A tenant with a one-step flow answered "done" (or as `script` says). */
async function oneStepFlow(script: Parameters<typeof flowWith>[2] = () => "done") {
  const { trpc, tenant } = await newTenant("webhooks");
  const orchestration = await flowWith(trpc, [{ name: "Work", inputMapping: { step: "Work" } }], script);
  return { trpc, tenantId: tenant.id, orchestration };
}

describe("delivery of a run's end", () => {
  it("POSTs the completed run's summary, signed so an independent HMAC of the raw body matches", async () => {
    const { trpc, orchestration } = await oneStepFlow();
    const { key, webhook } = await hookFor(trpc);
    const end = await runToEnd(trpc, orchestration.id);

    const [request] = await waitForReceived(key, 1);
    if (!request) throw new Error("nothing received");
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["user-agent"]).toBe("Troupe-Webhooks");
    expect(request.headers["troupe-event"]).toBe("execution.completed");
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(request.headers["troupe-signature"] ?? "");
    if (!match) throw new Error(`bad signature header ${request.headers["troupe-signature"]}`);
    const [, t = "", v1] = match;
    expect(v1).toBe(await independentSignature(webhook.secret, t, request.body));
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(60);
    // Signed with another secret, or over another body, it would not match.
    expect(v1).not.toBe(await independentSignature(`${webhook.secret}x`, t, request.body));
    expect(v1).not.toBe(await independentSignature(webhook.secret, t, `${request.body} `));

    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      type: "execution.completed",
      data: {
        executionId: end.id,
        orchestrationId: orchestration.id,
        orchestrationName: "Flow",
        status: "completed",
        output: end.output,
        startedAt: end.startedAt,
        finishedAt: end.finishedAt,
        usage: { calls: 1 },
      },
    });
    expect(body.id).toMatch(/^evt_/);
    expect(Date.parse(body.createdAt)).toBe(Date.parse(end.finishedAt ?? ""));

    const [delivery] = await waitFor(
      () => deliveriesOf(trpc, webhook.id),
      (items) => items[0]?.status === "delivered",
    );
    expect(request.headers["troupe-delivery"]).toBe(delivery?.id);
    expect(delivery).toMatchObject({
      eventType: "execution.completed",
      executionId: end.id,
      body: request.body,
    });
    expect(delivery?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: 200, responseExcerpt: "ok", error: null }),
    ]);
  });

  it("tells each webhook only the events it asked for, and only its orchestration's runs", async () => {
    let fail = false;
    const { trpc, orchestration } = await oneStepFlow(() =>
      fail ? providerFailure("the model is down", false) : "done",
    );
    const other = await flowWith(trpc, [{ name: "Other", inputMapping: { step: "Other" } }], () => "x", {
      name: "Other flow",
      roleName: "Other worker",
    });
    const failures = await hookFor(trpc, ["execution.failed"]);
    const onlyOther = await hookFor(trpc, ["execution.completed"], { orchestrationId: other.id });
    const everything = await hookFor(trpc);

    const completed = await runToEnd(trpc, orchestration.id);
    fail = true;
    const failed = await runToEnd(trpc, orchestration.id);
    expect(failed.status).toBe("failed");
    const otherRun = await runToEnd(trpc, other.id);

    const all = await waitForReceived(everything.key, 3);
    expect(all.map((request) => JSON.parse(request.body).data.executionId).sort()).toEqual(
      [completed.id, failed.id, otherRun.id].sort(),
    );
    const [failure] = await waitForReceived(failures.key, 1);
    expect(JSON.parse(failure?.body ?? "{}")).toMatchObject({
      type: "execution.failed",
      data: { executionId: failed.id, status: "failed", error: expect.stringContaining("the model is down") },
    });
    const [fromOther] = await waitForReceived(onlyOther.key, 1);
    expect(JSON.parse(fromOther?.body ?? "{}").data.executionId).toBe(otherRun.id);
    // Nothing else arrives (a run's end is handed over once, in its end's commit).
    expect(await receivedBy(failures.key)).toHaveLength(1);
    expect(await receivedBy(onlyOther.key)).toHaveLength(1);
  });

  it("tells execution.cancelled and approval.requested (with the step and its message)", async () => {
    const { trpc } = await newTenant("webhooks");
    const orchestration = await flowWith(
      trpc,
      [
        { name: "Gate", stepType: "approval", message: "Ship {{context.input.what}}?" },
        { name: "Work", inputMapping: { step: "Work" } },
      ],
      (_, signal) => untilAborted(signal),
    );
    const { key } = await hookFor(trpc, ["approval.requested", "execution.cancelled"]);
    const id = await startRun(trpc, orchestration.id, { what: "v2" });
    await waitForStep(trpc, id, "Gate", "waiting");
    const [asked] = await waitForReceived(key, 1);
    expect(JSON.parse(asked?.body ?? "{}")).toMatchObject({
      type: "approval.requested",
      data: {
        executionId: id,
        status: "running",
        step: { name: "Gate", instanceId: "0" },
        message: "Ship v2?",
      },
    });
    expect(asked?.headers["troupe-event"]).toBe("approval.requested");

    await trpc.orchestrationManagement.cancel.mutate({ executionId: id });
    const [, cancelled] = await waitForReceived(key, 2);
    expect(JSON.parse(cancelled?.body ?? "{}")).toMatchObject({
      type: "execution.cancelled",
      data: { executionId: id, status: "cancelled" },
    });
  });

  it("caps a large output and says it was truncated", () => {
    const output = "x".repeat(WEBHOOK_OUTPUT_MAX_CHARS + 10);
    const header = {
      v: 2,
      status: "completed",
      input: {},
      seq: 1,
      createdAt: 0,
      finishedAt: 1,
      output,
    } as const;
    const event = endEvent(
      { executionId: "exe_1", orchestrationId: "orc_1", orchestrationName: "F" },
      header,
    );
    expect(event?.data.output).toBeUndefined();
    expect(event?.data).toMatchObject({ outputTruncated: true });
    expect(JSON.stringify(event).length).toBeLessThan(WEBHOOK_OUTPUT_MAX_CHARS);
  });

  it("owes nothing when the team has no enabled webhook: the run ends with an empty outbox and no alarm", async () => {
    const { trpc, orchestration } = await oneStepFlow();
    const { webhook } = await hookFor(trpc);
    await trpc.webhook.update.mutate({ id: webhook.id, enabled: false });
    const end = await runToEnd(trpc, orchestration.id);
    await waitFor(
      () => pendingAlarm(end.id),
      (alarm) => alarm === null,
    );
    expect(await deliveriesOf(trpc, webhook.id)).toEqual([]);
  });
});

describe("retries", () => {
  it("retries a receiver that fails twice with growing back-off, then delivers; every attempt is logged", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const key = newReceiverKey();
    await scriptReceiver(key, [
      { status: 500, body: "down" },
      { status: 503, body: "still down" },
    ]);
    const { webhook } = await hookFor(trpc, ["execution.completed"], { key });
    await runToEnd(trpc, orchestration.id);

    const first = await waitForAttempts(trpc, tenantId, webhook.id, 1);
    expect(first).toMatchObject({ status: "pending" });
    const scheduled1 = await runRetriesNow(tenantId);
    const second = await waitForAttempts(trpc, tenantId, webhook.id, 2);
    expect(second.status).toBe("pending");
    const scheduled2 = await runRetriesNow(tenantId);
    const third = await waitForAttempts(trpc, tenantId, webhook.id, 3);

    expect(third.status).toBe("delivered");
    expect(third.nextAttemptAt).toBeNull();
    expect(third.attempts.map((a) => [a.attempt, a.statusCode, a.responseExcerpt])).toEqual([
      [1, 500, "down"],
      [2, 503, "still down"],
      [3, 200, "ok"],
    ]);
    expect(third.attempts[0]?.error).toBe("answered 500");
    // Back-off grows: ~10 s after the first attempt, ~20 s after the second (±20 % jitter).
    const wait1 = (scheduled1[0] ?? 0) - Date.parse(third.attempts[0]?.at ?? "");
    const wait2 = (scheduled2[0] ?? 0) - Date.parse(third.attempts[1]?.at ?? "");
    expect(wait1).toBeGreaterThan(7_000);
    expect(wait1).toBeLessThan(13_000);
    expect(wait2).toBeGreaterThan(15_000);
    expect(wait2).toBeLessThan(25_000);
    expect(wait2).toBeGreaterThan(wait1);
    // The same delivery, the same bytes, three times.
    const received = await receivedBy(key);
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.headers["troupe-delivery"])).size).toBe(1);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    expect(await dispatcherState(tenantId)).toEqual({ pending: [], alarm: null });
  });

  it("does not retry a 400: the delivery fails at once", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const key = newReceiverKey();
    await scriptReceiver(key, [{ status: 400, body: "bad payload" }]);
    const { webhook } = await hookFor(trpc, ["execution.completed"], { key });
    await runToEnd(trpc, orchestration.id);
    const delivery = await waitForAttempts(trpc, tenantId, webhook.id, 1);
    expect(delivery).toMatchObject({ status: "failed", nextAttemptAt: null });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({ statusCode: 400, responseExcerpt: "bad payload", error: "answered 400" }),
    ]);
    expect(await dispatcherState(tenantId)).toEqual({ pending: [], alarm: null });
  });

  it("retries 429 and 408 like a 5xx", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const key = newReceiverKey();
    await scriptReceiver(key, [{ status: 429 }, { status: 408 }]);
    const { webhook } = await hookFor(trpc, ["execution.completed"], { key });
    await runToEnd(trpc, orchestration.id);
    expect((await waitForAttempts(trpc, tenantId, webhook.id, 1)).status).toBe("pending");
    await runRetriesNow(tenantId);
    expect((await waitForAttempts(trpc, tenantId, webhook.id, 2)).status).toBe("pending");
    await runRetriesNow(tenantId);
    expect((await waitForAttempts(trpc, tenantId, webhook.id, 3)).status).toBe("delivered");
  });

  it("does not follow a redirect: a 3xx fails the delivery and the target gets nothing", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const key = newReceiverKey();
    const target = newReceiverKey();
    await scriptReceiver(key, [{ status: 302, location: receiverUrl(target) }]);
    const { webhook } = await hookFor(trpc, ["execution.completed"], { key });
    await runToEnd(trpc, orchestration.id);
    const delivery = await waitForAttempts(trpc, tenantId, webhook.id, 1);
    expect(delivery.status).toBe("failed");
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 302 });
    expect(delivery.attempts[0]?.error).toContain("redirects are not followed");
    expect(delivery.attempts[0]?.responseExcerpt).toContain(`redirect to ${receiverUrl(target)}`);
    expect(await receivedBy(target)).toEqual([]);
  });

  it("retries a receiver that does not answer within 10 s", { timeout: 40_000 }, async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const key = newReceiverKey();
    await scriptReceiver(key, [{ hang: true }]);
    const { webhook } = await hookFor(trpc, ["execution.completed"], { key });
    await runToEnd(trpc, orchestration.id);
    const first = await waitFor(
      () => deliveriesOf(trpc, webhook.id),
      (items) => (items[0]?.attempts.length ?? 0) >= 1,
      { timeoutMs: 30_000, everyMs: 100 },
    );
    expect(first[0]?.status).toBe("pending");
    expect(first[0]?.attempts[0]).toMatchObject({ statusCode: null, error: "no answer within 10 s" });
    expect(first[0]?.attempts[0]?.durationMs).toBeGreaterThanOrEqual(9_900);
    await waitForAttempts(trpc, tenantId, webhook.id, 1);
    await runRetriesNow(tenantId);
    expect((await waitForAttempts(trpc, tenantId, webhook.id, 2)).status).toBe("delivered");
  });

  it("retries a refused connection, and gives up 24 h after the first attempt", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    // A port nothing listens on: the connection is refused.
    const { webhook } = await trpc.webhook.create
      .mutate({ url: "http://127.0.0.1:9/hook", events: ["execution.completed"] })
      .then((created) => ({ webhook: created }));
    await runToEnd(trpc, orchestration.id);
    const first = await waitForAttempts(trpc, tenantId, webhook.id, 1);
    expect(first.status).toBe("pending");
    expect(first.attempts[0]?.error).toMatch(/^could not connect/);

    // The window began 24 h ago: the next failure is the last.
    await runInDurableObject(dispatcherObject(tenantId), async (_, state) => {
      for (const [k, entry] of await state.storage.list<PendingDelivery>({ prefix: "pending:" }))
        await state.storage.put(k, { ...entry, firstAttemptAt: Date.now() - RETRY_WINDOW_MS });
    });
    await runRetriesNow(tenantId);
    const last = await waitForAttempts(trpc, tenantId, webhook.id, 2);
    expect(last.status).toBe("failed");
    expect(last.attempts[1]?.error).toContain("retries stop 24 h after the first attempt");
    expect(await dispatcherState(tenantId)).toEqual({ pending: [], alarm: null });
  });
});

describe("redeliver", () => {
  it("makes a new attempt now with the same delivery id and body", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const key = newReceiverKey();
    await scriptReceiver(key, [{ status: 400 }]);
    const { webhook } = await hookFor(trpc, ["execution.completed"], { key });
    await runToEnd(trpc, orchestration.id);
    const failed = await waitForAttempts(trpc, tenantId, webhook.id, 1);
    expect(failed.status).toBe("failed");

    const attempt = await trpc.webhook.redeliver.mutate({ deliveryId: failed.id });
    expect(attempt).toMatchObject({ attempt: 2, status: "delivered", statusCode: 200 });
    const [after] = await deliveriesOf(trpc, webhook.id);
    expect(after).toMatchObject({ id: failed.id, status: "delivered" });
    expect(after?.attempts.map((a) => a.statusCode)).toEqual([400, 200]);
    const received = await receivedBy(key);
    expect(received).toHaveLength(2);
    expect(received[1]?.headers["troupe-delivery"]).toBe(failed.id);
    expect(received[1]?.body).toBe(received[0]?.body);
  });
});

describe("durability", () => {
  it("a crash after the end is committed and before the hand-off still delivers", async () => {
    const rig = await crashRig(chain);
    const { key } = await hookFor(rig.trpc, ["execution.completed"]);
    const held = rig.model.hold("C");
    const executionId = await rig.execute();
    await held.called();
    // C's reply ends the run: the object dies right after that decision is written, before it is performed.
    armFault(executionId, "after_save");
    held.release();
    await crashed(executionId);
    expect(await receivedBy(key)).toEqual([]);

    await pickUp(executionId);
    const end = await waitForEnd(rig.trpc, executionId);
    expect(end.status).toBe("completed");
    const [request] = await waitForReceived(key, 1);
    expect(JSON.parse(request?.body ?? "{}")).toMatchObject({
      type: "execution.completed",
      data: { executionId, status: "completed" },
    });
    await waitFor(
      () => pendingAlarm(executionId),
      (alarm) => alarm === null,
    );
    expect(await receivedBy(key)).toHaveLength(1);
  });

  it("a repeated hand-off of one event is a no-op: one delivery, one POST", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const { key, webhook } = await hookFor(trpc, ["execution.completed"]);
    const end = await runToEnd(trpc, orchestration.id);
    await waitForReceived(key, 1);
    const [delivery] = await waitFor(
      () => deliveriesOf(trpc, webhook.id),
      (items) => items[0]?.status === "delivered",
    );
    const event = JSON.parse(delivery?.body ?? "{}");
    expect(event.data.executionId).toBe(end.id);
    const again = await webhookDispatcher(env, tenantId).enqueue(tenantId, event);
    expect(again).toEqual({ ok: true, value: { deliveryIds: [] } });
    expect(await countRows("webhook_deliveries", "tenant_id = ?", tenantId)).toBe(1);
    await runDispatcherAlarm(tenantId);
    expect(await receivedBy(key)).toHaveLength(1);
  });

  it("state written before webhooks existed (v2) finishes and its end is delivered", async () => {
    const planted = await plantV2Execution("chainHeldAtB");
    const { key } = await hookFor(planted.trpc, ["execution.completed"]);
    await pickUp(planted.executionId);
    const end = await waitForEnd(planted.trpc, planted.executionId);
    expect(end.status).toBe("completed");
    const [request] = await waitForReceived(key, 1);
    expect(JSON.parse(request?.body ?? "{}")).toMatchObject({
      data: { executionId: planted.executionId, status: "completed" },
    });
    expect((await statusOf(planted.trpc, planted.executionId)).status).toBe("completed");
  });
});

describe("deleting", () => {
  it("deleting a webhook deletes its deliveries and attempts; nothing more is sent to it", async () => {
    const { trpc, tenantId, orchestration } = await oneStepFlow();
    const key = newReceiverKey();
    await scriptReceiver(key, [{ status: 500 }]);
    const { webhook } = await hookFor(trpc, ["execution.completed"], { key });
    await runToEnd(trpc, orchestration.id);
    await waitForAttempts(trpc, tenantId, webhook.id, 1);
    await trpc.webhook.delete.mutate({ id: webhook.id });
    expect(await countRows("webhook_deliveries", "tenant_id = ?", tenantId)).toBe(0);
    expect(await countRows("webhook_attempts", "tenant_id = ?", tenantId)).toBe(0);
    await runRetriesNow(tenantId);
    expect(await receivedBy(key)).toHaveLength(1);
    expect(await dispatcherState(tenantId)).toEqual({ pending: [], alarm: null });
  });
});
