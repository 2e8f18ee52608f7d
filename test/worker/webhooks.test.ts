// The webhook API through the real Worker and D1: create returns the signing secret once (stored only
// encrypted), list/get/update/delete, the https rule of production, every bad input refused with its
// field and nothing written, the maxWebhooks quota, scopes, and another tenant's webhooks and deliveries
// answering NOT_FOUND.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDb } from "../../worker/db/client";
import { WebhookStore } from "../../worker/db/webhooks";
import { TroupeError } from "../../worker/errors";
import { limitsOf } from "../../worker/limits";
import { openProviderKey } from "../../worker/providers/key-crypto";
import { checkWebhookUrl } from "../../worker/webhooks/url";
import { errorOf, makeClient, newTenant, uniqueIp } from "../helpers/client";
import { flowWith, runToEnd } from "../helpers/control-flow";
import { countRows, placesStoring, rowsOf } from "../helpers/db";
import { waitFor } from "../helpers/executions";
import { setPlan } from "../helpers/plans";
import { deliveriesOf, hookFor, receiverUrl } from "../helpers/webhooks";

const webhookCount = (tenantId: string) => countRows("webhooks", "tenant_id = ?", tenantId);
const EVENTS = ["execution.completed", "execution.failed"] as const;

describe("webhook.create, list, get", () => {
  it("returns the signing secret once; it is stored only encrypted and never shown again", async () => {
    const { trpc, tenant } = await newTenant("webhooks");
    const url = receiverUrl("create");
    const created = await trpc.webhook.create.mutate({ url, events: [...EVENTS] });
    expect(created).toMatchObject({ url, events: EVENTS, orchestrationId: null, enabled: true });
    expect(created.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    const { secret, ...shown } = created;

    expect(await trpc.webhook.get.query({ id: created.id })).toEqual(shown);
    const listed = await trpc.webhook.list.query();
    expect(listed).toEqual({ items: [shown], nextCursor: null });
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(await placesStoring(secret)).toEqual([]);
    const [row] = await rowsOf("webhooks", "id = ?", created.id);
    const sealed = { ciphertext: String(row?.secret_ciphertext), iv: String(row?.secret_iv) };
    expect(await openProviderKey(env.PROVIDER_KEYS_SECRET ?? "", tenant.id, created.id, sealed)).toBe(secret);
  });

  it("lists newest first, a page at a time", async () => {
    const { trpc } = await newTenant("webhooks");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (await trpc.webhook.create.mutate({ url: receiverUrl(`p${i}`), events: ["execution.failed"] })).id,
      );
    const first = await trpc.webhook.list.query({ limit: 2 });
    expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
    const second = await trpc.webhook.list.query({ limit: 2, cursor: first.nextCursor ?? "" });
    expect(second).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
  });

  it("filters on one of the tenant's orchestrations", async () => {
    const { trpc } = await newTenant("webhooks");
    const flow = await flowWith(trpc, [{ name: "Work" }], () => "done");
    const created = await trpc.webhook.create.mutate({
      url: receiverUrl("filtered"),
      events: ["execution.completed"],
      orchestrationId: flow.id,
    });
    expect(created.orchestrationId).toBe(flow.id);
  });
});

describe("bad input: a clear error naming the field, and nothing written", () => {
  it.each([
    {
      what: "an unknown event",
      input: { url: receiverUrl("x"), events: ["execution.done"] },
      path: "events[0]",
      message:
        '"execution.done" is not one of execution.completed, execution.failed, execution.cancelled, approval.requested',
    },
    {
      what: "no events",
      input: { url: receiverUrl("x"), events: [] },
      path: "events",
      message: "must name at least one event",
    },
    {
      what: "an event twice",
      input: { url: receiverUrl("x"), events: ["execution.failed", "execution.failed"] },
      path: "events",
      message: "must list each event at most once",
    },
    { what: "no URL", input: { events: ["execution.failed"] }, path: "url", message: "is required" },
    {
      what: "a URL that is not one",
      input: { url: "not a url", events: ["execution.failed"] },
      path: "url",
      message: "is not a URL",
    },
    {
      what: "an ftp URL",
      input: { url: "ftp://example.com/hook", events: ["execution.failed"] },
      path: "url",
      message: "must be an https URL, not ftp:",
    },
    {
      what: "credentials in the URL",
      input: { url: "https://user:pw@example.com/hook", events: ["execution.failed"] },
      path: "url",
      message: "must not contain a user name or password",
    },
    {
      what: "an unknown field",
      input: { url: receiverUrl("x"), events: ["execution.failed"], secret: "mine" },
      path: "",
      message: 'unknown field "secret"',
    },
  ])("$what", async ({ input, path, message }) => {
    const { trpc, tenant } = await newTenant("webhooks");
    const error = await errorOf(trpc.webhook.create.mutate(input as never));
    expect(error.code).toBe("BAD_REQUEST");
    const issue = error.issues.find((found) => found.path === path);
    expect(issue, JSON.stringify(error.issues)).toBeDefined();
    expect(issue?.message).toContain(message);
    expect(await webhookCount(tenant.id)).toBe(0);
  });

  it("an orchestration that is not the tenant's: NOT_FOUND naming orchestrationId", async () => {
    const { trpc, tenant } = await newTenant("webhooks");
    const other = await newTenant("webhooks");
    const theirs = await flowWith(other.trpc, [{ name: "Work" }], () => "done");
    for (const orchestrationId of [theirs.id, "orc_missing"]) {
      const error = await errorOf(
        trpc.webhook.create.mutate({ url: receiverUrl("x"), events: ["execution.failed"], orchestrationId }),
      );
      expect(error).toMatchObject({
        code: "NOT_FOUND",
        issues: [{ path: "orchestrationId", message: `no orchestration "${orchestrationId}" in this team` }],
      });
    }
    expect(await webhookCount(tenant.id)).toBe(0);
  });

  it('in production (ALLOW_INSECURE_PROVIDER_URLS not "true") an http URL is refused', async () => {
    expect(checkWebhookUrl("http://example.com/hook", false)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("http://example.com/hook", false)).toMatchObject({
      message: expect.stringContaining("must be https"),
    });
    expect(checkWebhookUrl("https://example.com/hook", false)).toEqual({
      ok: true,
      url: "https://example.com/hook",
    });
    expect(checkWebhookUrl("http://127.0.0.1:8787/hook", true)).toMatchObject({ ok: true });

    // The store with production's environment: refused with the field, nothing written.
    const { tenant, user } = await newTenant("webhooks");
    const production = {
      PROVIDER_KEYS_SECRET: env.PROVIDER_KEYS_SECRET,
      ALLOW_INSECURE_PROVIDER_URLS: "false",
    };
    const store = new WebhookStore(
      openDb(env.DB),
      { tenantId: tenant.id, principal: `user:${user.id}` },
      production,
      async () => limitsOf(null),
    );
    const error = await store
      .create({ url: "http://example.com/hook", events: ["execution.failed"] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TroupeError);
    expect(error).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "url" }] });
    expect((error as TroupeError).issues[0]?.message).toContain("must be https");
    expect(await webhookCount(tenant.id)).toBe(0);
    const made = await store.create({ url: "https://example.com/hook", events: ["execution.failed"] });
    expect(made.url).toBe("https://example.com/hook");
  });
});

describe("webhook.update and delete", () => {
  it("changes the URL, events and filter, disables and enables; bad changes are refused and change nothing", async () => {
    const { trpc } = await newTenant("webhooks");
    const flow = await flowWith(trpc, [{ name: "Work" }], () => "done");
    const created = await trpc.webhook.create.mutate({ url: receiverUrl("u"), events: ["execution.failed"] });
    const updated = await trpc.webhook.update.mutate({
      id: created.id,
      url: receiverUrl("u2"),
      events: ["execution.completed", "approval.requested"],
      orchestrationId: flow.id,
      enabled: false,
    });
    expect(updated).toMatchObject({
      url: receiverUrl("u2"),
      events: ["execution.completed", "approval.requested"],
      orchestrationId: flow.id,
      enabled: false,
    });
    expect(updated).not.toHaveProperty("secret");
    const cleared = await trpc.webhook.update.mutate({
      id: created.id,
      orchestrationId: null,
      enabled: true,
    });
    expect(cleared).toMatchObject({ orchestrationId: null, enabled: true, url: receiverUrl("u2") });

    const bad = await errorOf(trpc.webhook.update.mutate({ id: created.id, events: ["nope" as never] }));
    expect(bad).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "events[0]" }] });
    const notOurs = await errorOf(
      trpc.webhook.update.mutate({ id: created.id, orchestrationId: "orc_nope" }),
    );
    expect(notOurs).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "orchestrationId" }] });
    expect(await trpc.webhook.get.query({ id: created.id })).toEqual(cleared);
  });

  it("delete removes it; a second delete answers NOT_FOUND", async () => {
    const { trpc, tenant } = await newTenant("webhooks");
    const created = await trpc.webhook.create.mutate({ url: receiverUrl("d"), events: ["execution.failed"] });
    expect(await trpc.webhook.delete.mutate({ id: created.id })).toEqual({ id: created.id, deleted: true });
    expect(await webhookCount(tenant.id)).toBe(0);
    expect(await errorOf(trpc.webhook.delete.mutate({ id: created.id }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("quota and scopes", () => {
  it("maxWebhooks: a create past it is FORBIDDEN naming the limit, and nothing is written", async () => {
    const { trpc, tenant } = await newTenant("webhooks");
    await setPlan(tenant.id, { maxWebhooks: 1 });
    await trpc.webhook.create.mutate({ url: receiverUrl("q1"), events: ["execution.failed"] });
    const error = await errorOf(
      trpc.webhook.create.mutate({ url: receiverUrl("q2"), events: ["execution.failed"] }),
    );
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toContain("maxWebhooks: 1");
    expect(await webhookCount(tenant.id)).toBe(1);
  });

  it("a read key lists webhooks but may not create, change or redeliver", async () => {
    const { trpc } = await newTenant("webhooks");
    const created = await trpc.webhook.create.mutate({ url: receiverUrl("s"), events: ["execution.failed"] });
    const key = await trpc.apiKey.create.mutate({ name: "reader", scopes: ["read"] });
    const reader = makeClient({ apiKey: key.key, headers: { "cf-connecting-ip": uniqueIp() } });
    expect((await reader.webhook.list.query()).items).toHaveLength(1);
    for (const call of [
      () => reader.webhook.create.mutate({ url: receiverUrl("s2"), events: ["execution.failed"] }),
      () => reader.webhook.update.mutate({ id: created.id, enabled: false }),
      () => reader.webhook.delete.mutate({ id: created.id }),
      () => reader.webhook.redeliver.mutate({ deliveryId: "whd_x" }),
    ])
      expect((await errorOf(call())).code).toBe("FORBIDDEN");
  });
});

describe("tenant isolation", () => {
  it("another tenant's webhook and delivery answer NOT_FOUND to everything", async () => {
    const owner = await newTenant("webhooks");
    const flow = await flowWith(owner.trpc, [{ name: "Work" }], () => "done");
    const { webhook } = await hookFor(owner.trpc, ["execution.completed"]);
    await runToEnd(owner.trpc, flow.id);
    const [delivery] = await waitFor(
      () => deliveriesOf(owner.trpc, webhook.id),
      (items) => items[0]?.status === "delivered",
    );
    if (!delivery) throw new Error("no delivery");

    const { trpc: stranger } = await newTenant("webhooks");
    for (const call of [
      () => stranger.webhook.get.query({ id: webhook.id }),
      () => stranger.webhook.update.mutate({ id: webhook.id, enabled: false }),
      () => stranger.webhook.delete.mutate({ id: webhook.id }),
      () => stranger.webhook.deliveries.query({ webhookId: webhook.id }),
      () => stranger.webhook.redeliver.mutate({ deliveryId: delivery.id }),
    ])
      expect((await errorOf(call())).code).toBe("NOT_FOUND");
    expect((await stranger.webhook.list.query()).items).toEqual([]);
    expect(await owner.trpc.webhook.get.query({ id: webhook.id })).toMatchObject({ enabled: true });
    expect((await deliveriesOf(owner.trpc, webhook.id))[0]?.attempts).toHaveLength(1);
  });

  it("deleting the team deletes its webhooks, deliveries and attempts at once", async () => {
    const { trpc, tenant } = await newTenant("webhooks");
    const flow = await flowWith(trpc, [{ name: "Work" }], () => "done");
    const { webhook } = await hookFor(trpc, ["execution.completed"]);
    await runToEnd(trpc, flow.id);
    await waitFor(
      () => deliveriesOf(trpc, webhook.id),
      (items) => items[0]?.status === "delivered",
    );
    const name = tenant.name;
    await trpc.tenant.delete.mutate({ confirmName: name });
    for (const table of ["webhooks", "webhook_deliveries", "webhook_attempts"])
      expect(await countRows(table, "tenant_id = ?", tenant.id), table).toBe(0);
  });
});
