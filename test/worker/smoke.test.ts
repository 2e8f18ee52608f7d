import { describe, expect, it } from "vitest";
import { newTenant, workerFetch } from "../helpers/client";

describe("smoke", () => {
  it("health answers with D1 reachable", async () => {
    const response = await workerFetch("http://localhost/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, d1: { ok: true } });
  });
  it("signs up", async () => {
    const t = await newTenant();
    const me = await t.trpc.auth.me.query();
    expect(me.tenant.id).toBe(t.tenant.id);
  });
});
