// Inbound HTTP triggers through the real Worker: a POST of JSON to the trigger's URL starts one execution
// of its orchestration with that body as input and answers 202 { executionId }; a signature, when
// required, is checked against the raw body; a repeated Idempotency-Key starts nothing new; every refusal
// is JSON { error: { code, message, field? } } with its status and starts nothing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { governorStub } from "../../durable-objects/governor/client";
import { errorOf, newTenant } from "../helpers/client";
import { countRows, placesStoring, sha256Hex } from "../helpers/db";
import { waitForEnd } from "../helpers/executions";
import { executionsOf, postTrigger, signed, tenantWithOrchestration } from "../helpers/triggers";

type Refusal = { error: { code: string; message: string; field?: string } };

async function refusalOf(response: Response): Promise<Refusal["error"] & { status: number }> {
  const body = (await response.json()) as Refusal;
  return { status: response.status, ...body.error };
}

describe("trigger.create and the trigger URL", () => {
  it("starts an execution with the POSTed body as input and answers 202 { executionId }", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-basic");
    const { trigger, url, secret } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    expect(secret).toBeUndefined();
    expect(url).toMatch(/^http:\/\/localhost\/triggers\/trg_[0-9A-Za-z]{43}$/);
    expect(trigger).toMatchObject({
      orchestrationId,
      kind: "http",
      enabled: true,
      requireSignature: false,
      url,
    });

    const response = await postTrigger(url, { ticket: 42 });
    expect(response.status).toBe(202);
    const { executionId } = (await response.json()) as { executionId: string };
    const status = await waitForEnd(trpc, executionId);
    expect(status).toMatchObject({ orchestrationId, input: { ticket: 42 }, status: "completed" });
    const [row] = await executionsOf(tenant.id);
    expect(row).toMatchObject({ id: executionId, created_by: `trigger:${trigger.id}` });

    const listed = await trpc.trigger.list.query({ orchestrationId });
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ id: trigger.id, url });
    expect(listed.items[0]?.lastRuns.map((run) => run.executionId)).toEqual([executionId]);
    expect(listed.items[0]?.lastTriggeredAt).not.toBeNull();
  });

  it("stores the token only as its SHA-256 and sealed, never in clear", async () => {
    const { trpc, orchestrationId } = await tenantWithOrchestration("trigger-storage");
    const { trigger, url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const token = url.split("/").at(-1) ?? "";
    expect(await placesStoring(token)).toEqual([]);
    expect(await countRows("triggers", "id = ? and token_hash = ?", trigger.id, await sha256Hex(token))).toBe(
      1,
    );
    // The dashboard can show the URL again.
    expect((await trpc.trigger.get.query({ id: trigger.id })).url).toBe(url);
  });

  it("an empty body starts the run with {} as input", async () => {
    const { trpc, orchestrationId } = await tenantWithOrchestration("trigger-empty");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const response = await postTrigger(url, "");
    expect(response.status).toBe(202);
    const { executionId } = (await response.json()) as { executionId: string };
    expect((await waitForEnd(trpc, executionId)).input).toEqual({});
  });
});

describe("signed triggers", () => {
  it("accepts a good signature and refuses a bad, missing or stale one with 401, starting nothing", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-signed");
    const { trigger, url, secret } = await trpc.trigger.create.mutate({
      orchestrationId,
      kind: "http",
      requireSignature: true,
    });
    expect(secret).toMatch(/^tsec_[0-9A-Za-z]{43}$/);
    expect(await placesStoring(secret ?? "")).toEqual([]);
    expect(JSON.stringify(await trpc.trigger.get.query({ id: trigger.id }))).not.toContain(secret);
    const body = JSON.stringify({ order: "A-1" });

    const missing = await refusalOf(await postTrigger(url, body));
    expect(missing).toMatchObject({ status: 401, code: "UNAUTHORIZED", field: "Troupe-Signature" });
    expect(missing.message).toBe("the Troupe-Signature header is missing");

    const wrongSecret = await signed("tsec_not-the-secret", body);
    const bad = await refusalOf(await postTrigger(url, body, { "troupe-signature": wrongSecret }));
    expect(bad).toMatchObject({ status: 401, message: "the signature does not match the body" });

    const otherBody = await signed(secret ?? "", JSON.stringify({ order: "B-2" }));
    expect((await postTrigger(url, body, { "troupe-signature": otherBody })).status).toBe(401);

    const stale = await refusalOf(
      await postTrigger(url, body, { "troupe-signature": await signed(secret ?? "", body, 600) }),
    );
    expect(stale).toMatchObject({ status: 401 });
    expect(stale.message).toContain("more than 300 s away");
    expect(await executionsOf(tenant.id)).toEqual([]);

    const good = await postTrigger(url, body, { "troupe-signature": await signed(secret ?? "", body) });
    expect(good.status).toBe(202);
    expect(await executionsOf(tenant.id)).toHaveLength(1);
  });

  it("requiring a signature later makes a secret once; turning it off lets unsigned calls through", async () => {
    const { trpc, orchestrationId } = await tenantWithOrchestration("trigger-signed-later");
    const { trigger, url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const required = await trpc.trigger.update.mutate({ id: trigger.id, requireSignature: true });
    expect(required.secret).toMatch(/^tsec_/);
    expect((await postTrigger(url, {})).status).toBe(401);
    const again = await trpc.trigger.update.mutate({ id: trigger.id, requireSignature: true });
    expect(again.secret).toBeUndefined(); // shown once: the same secret stays
    await trpc.trigger.update.mutate({ id: trigger.id, requireSignature: false });
    expect((await postTrigger(url, {})).status).toBe(202);
  });
});

describe("Idempotency-Key", () => {
  it("a repeated key answers the same executionId and starts no second run; keys are per trigger", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-idem");
    const first = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const second = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const headers = { "idempotency-key": "order-7" };

    const a = await postTrigger(first.url, { n: 1 }, headers);
    const b = await postTrigger(first.url, { n: 1 }, headers);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    const idA = ((await a.json()) as { executionId: string }).executionId;
    expect(((await b.json()) as { executionId: string }).executionId).toBe(idA);
    expect(await executionsOf(tenant.id)).toHaveLength(1);

    // The same key on another trigger is another request.
    const c = await postTrigger(second.url, { n: 1 }, headers);
    expect(((await c.json()) as { executionId: string }).executionId).not.toBe(idA);
    expect(await executionsOf(tenant.id)).toHaveLength(2);
  });

  it("refuses an over-long key with 400 naming the header", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-idem-long");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const refused = await refusalOf(await postTrigger(url, {}, { "idempotency-key": "k".repeat(201) }));
    expect(refused).toMatchObject({ status: 400, code: "BAD_REQUEST", field: "Idempotency-Key" });
    expect(await executionsOf(tenant.id)).toEqual([]);
  });
});

describe("trigger refusals start nothing", () => {
  it("an unknown or malformed token answers 404", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-unknown");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const unknown = url.replace(/trg_.{4}/, "trg_0000");
    for (const target of [unknown, "http://localhost/triggers/nope", "http://localhost/triggers/trg_"]) {
      const refused = await refusalOf(await postTrigger(target, {}));
      expect(refused).toMatchObject({ status: 404, code: "NOT_FOUND" });
    }
    expect(await executionsOf(tenant.id)).toEqual([]);
  });

  it("a trigger whose orchestration was deleted answers 404", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-orphan");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    await trpc.orchestrationManagement.delete.mutate({ orchestrationId });
    const refused = await refusalOf(await postTrigger(url, {}));
    expect(refused).toMatchObject({ status: 404, code: "NOT_FOUND" });
    expect(refused.message).toContain("orchestration was deleted");
    expect(await executionsOf(tenant.id)).toEqual([]);
  });

  it("a deleted team's trigger answers 404", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-team-gone");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    await trpc.tenant.delete.mutate({ confirmName: tenant.name });
    expect((await postTrigger(url, {})).status).toBe(404);
    expect(await countRows("triggers", "tenant_id = ?", tenant.id)).toBe(0);
    expect(await executionsOf(tenant.id)).toEqual([]);
  });

  it("a disabled trigger answers 409 until it is enabled again", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-disabled");
    const { trigger, url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    await trpc.trigger.update.mutate({ id: trigger.id, enabled: false });
    const refused = await refusalOf(await postTrigger(url, {}));
    expect(refused).toMatchObject({ status: 409, code: "CONFLICT" });
    expect(await executionsOf(tenant.id)).toEqual([]);
    await trpc.trigger.update.mutate({ id: trigger.id, enabled: true });
    expect((await postTrigger(url, {})).status).toBe(202);
  });

  it("invalid JSON answers 400 on body; another content type 415; another method 405", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-bad-body");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const invalid = await refusalOf(await postTrigger(url, "{not json"));
    expect(invalid).toMatchObject({ status: 400, code: "BAD_REQUEST", field: "body" });
    expect(invalid.message).toMatch(/^the body is not valid JSON/);
    const form = await refusalOf(
      await postTrigger(url, "a=1", { "content-type": "application/x-www-form-urlencoded" }),
    );
    expect(form).toMatchObject({ status: 415, field: "body" });
    const get = await postTrigger(url, undefined, {}, "GET");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(await executionsOf(tenant.id)).toEqual([]);
  });

  it("a body over the execution input limit answers 400 on body", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-big");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const refused = await refusalOf(await postTrigger(url, { text: "x".repeat(300_000) }));
    expect(refused).toMatchObject({ status: 400, field: "body" });
    expect(await executionsOf(tenant.id)).toEqual([]);
  });

  it("an inactive orchestration answers 412 naming orchestrationId", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-inactive");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    await trpc.orchestrationManagement.update.mutate({ orchestrationId, updates: { isActive: false } });
    const refused = await refusalOf(await postTrigger(url, {}));
    expect(refused).toMatchObject({ status: 412, code: "PRECONDITION_FAILED", field: "orchestrationId" });
    expect(await executionsOf(tenant.id)).toEqual([]);
  });

  it("past the trigger's request rate answers 429 with Retry-After", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-rate");
    const { url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    await env.DB.prepare("update tenants set plan = ? where id = ?")
      .bind(JSON.stringify({ requestsPerSecondPerKey: 0.01, requestBurstPerKey: 2 }), tenant.id)
      .run();
    await governorStub(env, tenant.id).forgetLimits();
    expect((await postTrigger(url, {})).status).toBe(202);
    expect((await postTrigger(url, {})).status).toBe(202);
    const refused = await postTrigger(url, {});
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await refusalOf(refused)).code).toBe("TOO_MANY_REQUESTS");
    expect(await executionsOf(tenant.id)).toHaveLength(2);
  });
});

describe("trigger management", () => {
  it("another team's trigger is NOT_FOUND, and so is another team's orchestration", async () => {
    const owner = await tenantWithOrchestration("trigger-owner");
    const stranger = await newTenant("trigger-stranger");
    const { trigger } = await owner.trpc.trigger.create.mutate({
      orchestrationId: owner.orchestrationId,
      kind: "http",
    });
    for (const call of [
      stranger.trpc.trigger.get.query({ id: trigger.id }),
      stranger.trpc.trigger.update.mutate({ id: trigger.id, enabled: false }),
      stranger.trpc.trigger.rotate.mutate({ id: trigger.id }),
      stranger.trpc.trigger.delete.mutate({ id: trigger.id }),
    ]) {
      expect(await errorOf(call)).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "id" }] });
    }
    const create = await errorOf(
      stranger.trpc.trigger.create.mutate({ orchestrationId: owner.orchestrationId, kind: "http" }),
    );
    expect(create).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "orchestrationId" }] });
    expect((await stranger.trpc.trigger.list.query()).items).toEqual([]);
    expect(await countRows("triggers", "tenant_id = ?", stranger.tenant.id)).toBe(0);
    expect((await owner.trpc.trigger.get.query({ id: trigger.id })).enabled).toBe(true);
  });

  it("refuses an unknown kind with BAD_REQUEST on kind, writing nothing", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-kind");
    const refused = await errorOf(trpc.trigger.create.mutate({ orchestrationId, kind: "email" as "http" }));
    expect(refused).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "kind" }] });
    expect(await countRows("triggers", "tenant_id = ?", tenant.id)).toBe(0);
  });

  it("rotate gives a new URL and the old one answers 404; delete stops the URL", async () => {
    const { trpc, orchestrationId } = await tenantWithOrchestration("trigger-rotate");
    const { trigger, url } = await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const rotated = await trpc.trigger.rotate.mutate({ id: trigger.id });
    expect(rotated.url).not.toBe(url);
    expect((await postTrigger(url, {})).status).toBe(404);
    expect((await postTrigger(rotated.url, {})).status).toBe(202);
    await trpc.trigger.delete.mutate({ id: trigger.id });
    expect((await postTrigger(rotated.url, {})).status).toBe(404);
    expect(await errorOf(trpc.trigger.get.query({ id: trigger.id }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses a create past maxTriggers with FORBIDDEN naming it", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("trigger-quota");
    await env.DB.prepare("update tenants set plan = ? where id = ?")
      .bind(JSON.stringify({ maxTriggers: 1 }), tenant.id)
      .run();
    const fresh = await trpc.trigger.list.query(); // limits are read per request
    expect(fresh.items).toEqual([]);
    await trpc.trigger.create.mutate({ orchestrationId, kind: "http" });
    const refused = await errorOf(trpc.trigger.create.mutate({ orchestrationId, kind: "http" }));
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toContain("maxTriggers: 1");
    expect(await countRows("triggers", "tenant_id = ?", tenant.id)).toBe(1);
  });
});
