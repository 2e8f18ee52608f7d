// API keys through the real Worker: shown once, stored only as a hash, listed by prefix, revoked at once,
// and accepted only as `Authorization: Bearer <key>` when whole, known and not revoked.
import { afterEach, describe, expect, it, vi } from "vitest";
import { generateApiKey } from "../../worker/auth/api-key-format";
import {
  errorOf,
  makeClient,
  newTenant,
  PASSWORD,
  sessionTokenOf,
  type TestClient,
  uniqueIp,
} from "../helpers/client";
import { countRows, placesStoring, rowsOf, sha256Hex } from "../helpers/db";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Base62 characters needed for 128 bits, plus up to 8 characters of checksum the format may append. */
const MIN_KEY_CHARS = "trp_".length + Math.ceil(128 / Math.log2(62)) + 8;

/** The key with the base62 character at `index` replaced by a different base62 character. */
function withCharChanged(key: string, index: number): string {
  const current = key.charAt(index);
  const replacement = BASE62.charAt((BASE62.indexOf(current) + 1) % BASE62.length);
  return key.slice(0, index) + replacement + key.slice(index + 1);
}

/** The tenant's keys, newest first (the first page of apiKey.list). */
async function keysOf(trpc: TestClient) {
  return (await trpc.apiKey.list.query({})).items;
}

/** A tenant's signed-in client plus one fresh key and a client that authenticates with it. */
async function tenantWithKey(name = "ci") {
  const tenant = await newTenant("keys");
  const created = await tenant.trpc.apiKey.create.mutate({ name });
  const viaKey = makeClient({ apiKey: created.key, headers: { "cf-connecting-ip": uniqueIp() } });
  return { ...tenant, created, viaKey };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("apiKey.create", () => {
  it("returns the key once: trp_ prefix, at least 128 bits, different every time", async () => {
    const { trpc } = await newTenant("create");
    const first = await trpc.apiKey.create.mutate({ name: "deploy bot" });
    const second = await trpc.apiKey.create.mutate({ name: "nightly" });

    for (const created of [first, second]) {
      expect(created.key).toMatch(/^trp_[0-9A-Za-z]+$/);
      expect(created.key.length).toBeGreaterThanOrEqual(MIN_KEY_CHARS);
      expect(created.key.startsWith(created.prefix)).toBe(true);
    }
    expect(first.key).not.toBe(second.key);
    expect(first).toMatchObject({ name: "deploy bot", lastUsedAt: null, revokedAt: null });
    const listed = await keysOf(trpc);
    expect(JSON.stringify(listed)).not.toContain(first.key);
  });

  it("stores only the key's SHA-256: no column anywhere holds the key", async () => {
    const { trpc, tenant, user } = await newTenant("hash");
    const created = await trpc.apiKey.create.mutate({ name: "hashed" });

    const [row] = await rowsOf("api_keys", "id = ?", created.id);
    expect(row).toMatchObject({ tenant_id: tenant.id, name: "hashed", created_by: `user:${user.id}` });
    expect(row?.key_hash).toBe(await sha256Hex(created.key));
    expect(row?.key_hash).not.toBe(created.key);
    expect(String(row?.prefix).length).toBeLessThanOrEqual(12);
    for (const [column, value] of Object.entries(row ?? {})) {
      expect(String(value), column).not.toContain(created.key);
    }
    expect(await placesStoring(created.key)).toEqual([]);
    expect(await placesStoring(created.key.slice(0, 20))).toEqual([]);
  });

  it("refuses a second key with the same name in a tenant with CONFLICT on name", async () => {
    const { trpc, tenant } = await newTenant("dup");
    await trpc.apiKey.create.mutate({ name: "deploy" });

    const error = await errorOf(trpc.apiKey.create.mutate({ name: "  deploy " }));

    expect(error).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect(error.issues).toEqual([{ path: "name", message: expect.stringContaining('"deploy"') }]);
    expect(await countRows("api_keys", "tenant_id = ?", tenant.id)).toBe(1);
  });

  it("allows the same name in another tenant", async () => {
    const first = await newTenant("same-name-a");
    const second = await newTenant("same-name-b");
    await first.trpc.apiKey.create.mutate({ name: "deploy" });
    expect((await second.trpc.apiKey.create.mutate({ name: "deploy" })).name).toBe("deploy");
  });

  it.each([
    { name: "", says: "must not be empty" },
    { name: "   ", says: "must not be empty" },
    { name: "k".repeat(101), says: "at most 100 characters" },
    { name: "line\nbreak", says: "control characters" },
  ])("refuses name $name with BAD_REQUEST naming the field, writing nothing", async ({ name, says }) => {
    const { trpc, tenant } = await newTenant("bad-name");
    const error = await errorOf(trpc.apiKey.create.mutate({ name }));

    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues).toEqual([{ path: "name", message: expect.stringContaining(says) }]);
    expect(await countRows("api_keys", "tenant_id = ?", tenant.id)).toBe(0);
  });

  it("refuses an anonymous caller with UNAUTHORIZED", async () => {
    const anonymous = makeClient({ headers: { "cf-connecting-ip": uniqueIp() } });
    expect((await errorOf(anonymous.apiKey.create.mutate({ name: "x" }))).code).toBe("UNAUTHORIZED");
  });
});

describe("apiKey.list", () => {
  it("shows each key's id, name, prefix and dates, newest first, never the key", async () => {
    const { trpc, user } = await newTenant("list");
    const before = Date.now();
    const older = await trpc.apiKey.create.mutate({ name: "older" });
    const newer = await trpc.apiKey.create.mutate({ name: "newer" });

    const listed = await keysOf(trpc);

    expect(listed.map((key) => key.name)).toEqual(["newer", "older"]);
    for (const [summary, created] of [
      [listed[0], newer],
      [listed[1], older],
    ] as const) {
      expect(summary).toEqual({
        id: created.id,
        name: created.name,
        prefix: created.prefix,
        createdBy: `user:${user.id}`,
        createdAt: created.createdAt,
        lastUsedAt: null,
        revokedAt: null,
        scopes: ["read", "run", "write", "admin"],
        expiresAt: null,
      });
      expect(Date.parse(summary?.createdAt ?? "")).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(summary?.createdAt ?? "")).toBeLessThanOrEqual(Date.now() + 1000);
    }
    const text = JSON.stringify(listed);
    for (const secret of [older.key, newer.key, await sha256Hex(older.key), await sha256Hex(newer.key)]) {
      expect(text).not.toContain(secret);
    }
  });

  it("sets lastUsedAt once the key has been used", async () => {
    const { trpc, created, viaKey } = await tenantWithKey();
    const before = Date.now();

    await viaKey.auth.me.query();

    await vi.waitFor(async () => {
      const [summary] = await keysOf(trpc);
      expect(summary?.lastUsedAt).not.toBeNull();
    });
    const [summary] = await keysOf(trpc);
    expect(summary?.id).toBe(created.id);
    expect(Date.parse(summary?.lastUsedAt ?? "")).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(summary?.lastUsedAt ?? "")).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("refreshes lastUsedAt at most once a minute", async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const { trpc, viaKey } = await tenantWithKey();
    const lastUsedAt = async () => (await keysOf(trpc))[0]?.lastUsedAt;

    await viaKey.auth.me.query();
    await vi.waitFor(async () => expect(await lastUsedAt()).toBe(new Date(start).toISOString()));
    vi.setSystemTime(start + 30_000);
    await viaKey.auth.me.query();
    expect(await lastUsedAt()).toBe(new Date(start).toISOString());

    vi.setSystemTime(start + 61_000);
    await viaKey.auth.me.query();
    await vi.waitFor(async () => expect(await lastUsedAt()).toBe(new Date(start + 61_000).toISOString()));
  });

  it("lists only the caller's tenant's keys", async () => {
    const mine = await tenantWithKey("mine");
    await tenantWithKey("theirs");
    expect((await keysOf(mine.trpc)).map((key) => key.name)).toEqual(["mine"]);
  });
});

describe("apiKey.revoke", () => {
  it("takes effect on the very next request", async () => {
    const { trpc, created, viaKey } = await tenantWithKey();
    expect((await viaKey.auth.me.query()).via).toBe("apiKey");

    const revoked = await trpc.apiKey.revoke.mutate({ apiKeyId: created.id });

    expect(revoked.revokedAt).not.toBeNull();
    const error = await errorOf(viaKey.auth.me.query());
    expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    expect(error.message).toContain("revoked");
    expect((await keysOf(trpc))[0]).toMatchObject({
      id: created.id,
      revokedAt: revoked.revokedAt,
    });
  });

  it("leaves the tenant's other keys working", async () => {
    const { trpc, created } = await tenantWithKey("first");
    const other = await trpc.apiKey.create.mutate({ name: "second" });
    await trpc.apiKey.revoke.mutate({ apiKeyId: created.id });

    const me = await makeClient({ apiKey: other.key }).auth.me.query();
    expect(me.apiKey).toEqual({ id: other.id, name: "second" });
  });

  it("answers a second revoke with the original revocation", async () => {
    const { trpc, created } = await tenantWithKey();
    const first = await trpc.apiKey.revoke.mutate({ apiKeyId: created.id });
    const second = await trpc.apiKey.revoke.mutate({ apiKeyId: created.id });
    expect(second).toEqual(first);
  });

  it("refuses another tenant's key with NOT_FOUND, and that key keeps working", async () => {
    const victim = await tenantWithKey("victim");
    const intruder = await newTenant("intruder");

    const error = await errorOf(intruder.trpc.apiKey.revoke.mutate({ apiKeyId: victim.created.id }));

    expect(error).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
    expect((await rowsOf("api_keys", "id = ?", victim.created.id))[0]?.revoked_at).toBeNull();
    expect((await victim.viaKey.auth.me.query()).tenant.id).toBe(victim.tenant.id);
  });

  it("refuses an unknown key id with NOT_FOUND naming it", async () => {
    const { trpc } = await newTenant("unknown-id");
    const error = await errorOf(trpc.apiKey.revoke.mutate({ apiKeyId: "key_doesnotexist" }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("key_doesnotexist");
  });
});

describe("Authorization: Bearer", () => {
  it("authenticates as the key's tenant", async () => {
    const { tenant, created, viaKey } = await tenantWithKey("reader");
    expect(await viaKey.auth.me.query()).toEqual({
      via: "apiKey",
      user: null,
      tenant,
      apiKey: { id: created.id, name: "reader" },
    });
  });

  it.each([
    { where: "the first random character", index: 4 },
    { where: "a middle character", index: 20 },
    { where: "the last character", index: -1 },
  ])("refuses a key with $where changed as malformed, with UNAUTHORIZED", async ({ index }) => {
    const { created } = await tenantWithKey();
    const mistyped = withCharChanged(created.key, index < 0 ? created.key.length + index : index);
    expect(mistyped).not.toBe(created.key);

    const error = await errorOf(makeClient({ apiKey: mistyped }).auth.me.query());

    expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    expect(error.message).toContain("malformed");
  });

  it("refuses a truncated key as malformed", async () => {
    const { created } = await tenantWithKey();
    const error = await errorOf(makeClient({ apiKey: created.key.slice(0, -1) }).auth.me.query());
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("malformed");
  });

  it("refuses a well-formed key that was never issued", async () => {
    const error = await errorOf(makeClient({ apiKey: generateApiKey().key }).auth.me.query());
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toBe("the API key is unknown or revoked");
  });

  it.each(["Basic dXNlcjpwYXNzd29yZA==", "Bearer", "Bearer one two", "Token trp_abc", "trp_0123456789"])(
    "refuses the Authorization header %j with UNAUTHORIZED",
    async (authorization) => {
      const error = await errorOf(makeClient({ headers: { authorization } }).auth.me.query());
      expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    },
  );

  it("refuses a garbage Authorization header even alongside a valid session cookie", async () => {
    const { trpc } = await newTenant("both");
    const error = await errorOf(
      makeClient({ cookie: trpc.jar.cookie, headers: { authorization: "Bearer nonsense" } }).auth.me.query(),
    );
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("cannot manage API keys: create, list and revoke are FORBIDDEN", async () => {
    const { tenant, created, viaKey } = await tenantWithKey("automation");

    const attempts = [
      viaKey.apiKey.create.mutate({ name: "minted by a key" }),
      viaKey.apiKey.list.query({}),
      viaKey.apiKey.revoke.mutate({ apiKeyId: created.id }),
    ];
    for (const attempt of attempts) {
      const error = await errorOf(attempt);
      expect(error).toMatchObject({ code: "FORBIDDEN", httpStatus: 403 });
      expect(error.message).toContain("signed-in session");
    }
    expect(await countRows("api_keys", "tenant_id = ?", tenant.id)).toBe(1);
    expect((await rowsOf("api_keys", "id = ?", created.id))[0]?.revoked_at).toBeNull();
  });
});

describe("secrets in responses", () => {
  it("no list or me response carries a password, API key or session token", async () => {
    const { trpc, created, viaKey, email } = await tenantWithKey("secretive");
    const token = sessionTokenOf(trpc);
    expect(token).toMatch(/^[0-9a-f]{64}$/);

    const responses = [
      await trpc.auth.me.query(),
      await keysOf(trpc),
      await viaKey.auth.me.query(),
      await trpc.apiKey.revoke.mutate({ apiKeyId: created.id }),
      await keysOf(trpc),
    ];
    const [user] = await rowsOf("users", "email = ?", email);

    const text = JSON.stringify(responses);
    const secrets = [PASSWORD, created.key, token, await sha256Hex(token), await sha256Hex(created.key)];
    for (const secret of [...secrets, String(user?.password_hash), String(user?.password_salt)]) {
      expect(text).not.toContain(secret);
    }
  });
});
