// API key scopes and expiry through the real Worker: every procedure declares the scope it needs, a key
// holding it (or admin) gets through, a key without it is refused with FORBIDDEN naming the scope and
// changes nothing, a signed-in user has every scope, and an expired key is refused as expired.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApiKeyScope } from "../../worker/limits";
import type { ProcedureMeta } from "../../worker/trpc/init";
import { appRouter } from "../../worker/trpc/routers/_app";
import { errorOf, makeClient, newTenant, type TestClient, uniqueIp } from "../helpers/client";
import { countRows, rowsOf } from "../helpers/db";
import { waitForEnd } from "../helpers/executions";
import { storedRowsOf } from "../helpers/fixtures";

afterEach(() => {
  vi.useRealTimers();
});

/** A tenant with a role, an orchestration and one finished execution, all made by its signed-in user. */
async function workspace() {
  const account = await newTenant("scopes");
  const { trpc } = account;
  const role = await trpc.role.create.mutate({ name: "Writer", basePrompt: "You write." });
  const flow = await trpc.orchestrationManagement.create.mutate({
    name: "Flow",
    steps: [{ name: "Write", roleName: "Writer" }],
  });
  const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });
  await waitForEnd(trpc, started.id);
  const keyClient = async (scopes: ApiKeyScope[]) => {
    const created = await trpc.apiKey.create.mutate({ name: `key ${scopes.join("+")}`, scopes });
    return makeClient({ apiKey: created.key, headers: { "cf-connecting-ip": uniqueIp() } });
  };
  return { ...account, role, flow, executionId: started.id, keyClient };
}
type Workspace = Awaited<ReturnType<typeof workspace>>;

interface ProcedureCall {
  path: string;
  scope: ApiKeyScope;
  call: (client: TestClient, at: Workspace) => Promise<unknown>;
}

const missing = "key_doesnotexist";
const PROCEDURES: ProcedureCall[] = [
  { path: "role.list", scope: "read", call: (c) => c.role.list.query({}) },
  { path: "role.get", scope: "read", call: (c) => c.role.get.query({ nameOrId: "Writer" }) },
  {
    path: "role.create",
    scope: "write",
    call: (c) => c.role.create.mutate({ name: `Made ${crypto.randomUUID()}`, basePrompt: "p" }),
  },
  {
    path: "role.update",
    scope: "write",
    call: (c, at) => c.role.update.mutate({ roleId: at.role.id, updates: { description: "changed" } }),
  },
  { path: "role.delete", scope: "write", call: (c) => c.role.delete.mutate({ roleId: missing }) },
  {
    path: "orchestrationManagement.list",
    scope: "read",
    call: (c) => c.orchestrationManagement.list.query({}),
  },
  {
    path: "orchestrationManagement.get",
    scope: "read",
    call: (c) => c.orchestrationManagement.get.query({ nameOrId: "Flow" }),
  },
  {
    path: "orchestrationManagement.versions",
    scope: "read",
    call: (c, at) => c.orchestrationManagement.versions.query({ orchestrationId: at.flow.id }),
  },
  {
    path: "orchestrationManagement.create",
    scope: "write",
    call: (c) =>
      c.orchestrationManagement.create.mutate({
        name: `Made ${crypto.randomUUID()}`,
        steps: [{ name: "A", roleName: "Writer" }],
      }),
  },
  {
    path: "orchestrationManagement.update",
    scope: "write",
    call: (c, at) =>
      c.orchestrationManagement.update.mutate({ orchestrationId: at.flow.id, updates: { description: "x" } }),
  },
  {
    path: "orchestrationManagement.delete",
    scope: "write",
    call: (c) => c.orchestrationManagement.delete.mutate({ orchestrationId: missing }),
  },
  {
    path: "orchestrationManagement.execute",
    scope: "run",
    call: (c, at) => c.orchestrationManagement.execute.mutate({ orchestrationId: at.flow.id }),
  },
  {
    path: "orchestrationManagement.getExecutionStatus",
    scope: "read",
    call: (c, at) => c.orchestrationManagement.getExecutionStatus.query({ executionId: at.executionId }),
  },
  {
    path: "orchestrationManagement.listExecutions",
    scope: "read",
    call: (c) => c.orchestrationManagement.listExecutions.query({}),
  },
  {
    path: "orchestrationManagement.cancel",
    scope: "run",
    call: (c, at) => c.orchestrationManagement.cancel.mutate({ executionId: at.executionId }),
  },
  {
    path: "orchestrationManagement.resume",
    scope: "run",
    call: (c, at) => c.orchestrationManagement.resume.mutate({ executionId: at.executionId }),
  },
  {
    path: "orchestrationManagement.rerun",
    scope: "run",
    call: (c) => c.orchestrationManagement.rerun.mutate({ executionId: missing }),
  },
  {
    path: "orchestrationManagement.approve",
    scope: "run",
    call: (c, at) =>
      c.orchestrationManagement.approve.mutate({
        executionId: at.executionId,
        stepName: "Write",
        approved: true,
      }),
  },
  {
    path: "agent.runCode",
    scope: "run",
    call: (c) => c.agent.runCode.mutate({ roleName: "Writer", code: "return 1 + 1;" }),
  },
  { path: "agent.runs", scope: "read", call: (c) => c.agent.runs.query({}) },
  { path: "provider.list", scope: "read", call: (c) => c.provider.list.query() },
  { path: "provider.models", scope: "read", call: (c) => c.provider.models.query() },
  {
    path: "provider.create",
    scope: "write",
    call: (c) => c.provider.create.mutate({ name: "", kind: "workers-ai", models: [] }),
  },
  {
    path: "provider.update",
    scope: "write",
    call: (c) => c.provider.update.mutate({ providerId: missing, updates: { name: "renamed" } }),
  },
  { path: "provider.delete", scope: "write", call: (c) => c.provider.delete.mutate({ providerId: missing }) },
  { path: "provider.test", scope: "write", call: (c) => c.provider.test.mutate({ providerId: missing }) },
  {
    path: "execution.delete",
    scope: "write",
    call: (c) => c.execution.delete.mutate({ executionId: missing }),
  },
  { path: "usage.get", scope: "read", call: (c) => c.usage.get.query({ groupBy: "day" }) },
];

/** "allowed" when the call got past the scope check (it may still fail for its own reasons), else the refusal. */
async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "allowed";
  } catch (error) {
    const { code, message } = await errorOf(Promise.reject(error));
    return code === "FORBIDDEN" ? `FORBIDDEN: ${message}` : "allowed";
  }
}

describe("procedure scopes", () => {
  it("every procedure declares who may call it, and these need exactly these scopes", () => {
    const declared = Object.fromEntries(
      Object.entries(appRouter._def.procedures).map(([path, procedure]) => {
        const meta = (procedure as unknown as { _def: { meta?: ProcedureMeta } })._def.meta;
        return [path, meta?.access ?? "public"];
      }),
    );
    for (const { path, scope } of PROCEDURES) expect(declared[path], path).toBe(scope);
    expect(declared["orchestrationManagement.watchExecution"]).toBe("read");
    expect(declared["auth.me"]).toBe("any");
    expect(declared["orchestrationManagement.cancelAll"]).toBe("admin");
    expect(declared["tenant.delete"]).toBe("session");
    for (const path of ["apiKey.create", "apiKey.list", "apiKey.revoke"])
      expect(declared[path]).toBe("session");
    const publicOnes = Object.keys(declared).filter((path) => declared[path] === "public");
    expect(publicOnes.toSorted()).toEqual(["auth.login", "auth.logout", "auth.signup"]);
  });

  it.each([["read"], ["run"], ["write"]] as const)(
    "a %s key gets through to its procedures and is refused the others, naming the scope",
    async (scope) => {
      const at = await workspace();
      const client = await at.keyClient([scope]);
      for (const procedure of PROCEDURES) {
        const outcome = await outcomeOf(procedure.call(client, at));
        if (procedure.scope === scope) expect(outcome, procedure.path).toBe("allowed");
        else {
          expect(outcome, procedure.path).toBe(
            `FORBIDDEN: ${procedure.path} needs the "${procedure.scope}" scope; the API key "key ${scope}" has ${scope}`,
          );
        }
      }
    },
  );

  it("refused calls change nothing", async () => {
    const at = await workspace();
    const readOnly = await at.keyClient(["read"]);
    const before = await storedRowsOf(at.tenant.id);
    for (const procedure of PROCEDURES.filter((p) => p.scope !== "read")) {
      expect(await outcomeOf(procedure.call(readOnly, at))).toMatch(/^FORBIDDEN/);
    }
    expect(await storedRowsOf(at.tenant.id)).toEqual(before);
    expect(await countRows("agent_runs", "tenant_id = ?", at.tenant.id)).toBe(0);
  });

  it("an admin key and a signed-in user get through to every procedure", async () => {
    const at = await workspace();
    const admin = await at.keyClient(["admin"]);
    for (const client of [admin, at.trpc]) {
      for (const procedure of PROCEDURES) {
        expect(await outcomeOf(procedure.call(client, at)), procedure.path).toBe("allowed");
      }
    }
  });

  it("a key of two scopes holds both, and any key may ask who it is", async () => {
    const at = await workspace();
    const client = await at.keyClient(["read", "run"]);
    expect((await client.auth.me.query()).via).toBe("apiKey");
    const started = await client.orchestrationManagement.execute.mutate({ orchestrationId: at.flow.id });
    expect((await waitForEnd(client, started.id)).status).toBe("completed");
    const refused = await errorOf(client.role.create.mutate({ name: "Nope", basePrompt: "p" }));
    expect(refused).toMatchObject({ code: "FORBIDDEN", httpStatus: 403 });
    expect(refused.message).toBe(
      'role.create needs the "write" scope; the API key "key read+run" has read, run',
    );
  });

  it("a scoped key still cannot manage API keys", async () => {
    const at = await workspace();
    const admin = await at.keyClient(["admin"]);
    const error = await errorOf(admin.apiKey.create.mutate({ name: "minted" }));
    expect(error).toMatchObject({ code: "FORBIDDEN" });
    expect(error.message).toContain("signed-in session");
  });

  it("another tenant's keys are unaffected by one tenant's narrow key", async () => {
    const narrow = await workspace();
    const other = await workspace();
    await narrow.keyClient(["read"]);
    const full = await other.keyClient(["write"]);
    expect((await full.role.create.mutate({ name: "Theirs", basePrompt: "p" })).name).toBe("Theirs");
  });
});

describe("apiKey.create scopes and expiry", () => {
  it("gives a key all four scopes and no expiry by default, as keys had before", async () => {
    const { trpc } = await newTenant("defaults");
    const created = await trpc.apiKey.create.mutate({ name: "everything" });
    expect(created).toMatchObject({ scopes: ["read", "run", "write", "admin"], expiresAt: null });
  });

  it("lists each key's scopes (in canonical order) and expiry", async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const { trpc } = await newTenant("listed");
    await trpc.apiKey.create.mutate({ name: "reader", scopes: ["read"], expiresInDays: 30 });
    const at = new Date(start + 3_600_000).toISOString();
    await trpc.apiKey.create.mutate({ name: "runner", scopes: ["run", "read"], expiresAt: at });
    const page = (await trpc.apiKey.list.query({})) as unknown;
    const listed = (Array.isArray(page) ? page : (page as { items: unknown[] }).items) as {
      name: string;
      scopes: string[];
      expiresAt: string | null;
    }[];
    expect(listed.map(({ name, scopes, expiresAt }) => ({ name, scopes, expiresAt }))).toEqual(
      expect.arrayContaining([
        { name: "reader", scopes: ["read"], expiresAt: new Date(start + 30 * 86_400_000).toISOString() },
        { name: "runner", scopes: ["read", "run"], expiresAt: at },
      ]),
    );
  });

  it("refuses an expired key with UNAUTHORIZED saying when it expired", async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const { trpc } = await newTenant("expiry");
    const created = await trpc.apiKey.create.mutate({ name: "short-lived", expiresInDays: 1 });
    const client = makeClient({ apiKey: created.key, headers: { "cf-connecting-ip": uniqueIp() } });
    expect((await client.auth.me.query()).via).toBe("apiKey");

    vi.setSystemTime(start + 86_400_000 - 1_000);
    expect((await client.role.list.query({})) !== undefined).toBe(true);
    vi.setSystemTime(start + 86_400_000 + 1);
    for (const call of [client.auth.me.query(), client.role.list.query({})]) {
      const error = await errorOf(call);
      expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
      expect(error.message).toBe(`the API key expired at ${created.expiresAt}`);
    }
  });

  it.each([
    {
      input: { scopes: ["read", "delete"] },
      path: "scopes[1]",
      says: '"delete" is not one of read, run, write, admin',
    },
    { input: { scopes: [] }, path: "scopes", says: "must name at least one scope" },
    { input: { scopes: ["run", "run"] }, path: "scopes[1]", says: 'scope "run" is already used at [0]' },
    { input: { scopes: "read" }, path: "scopes", says: "must be a list of scopes" },
    { input: { expiresAt: "2020-01-01T00:00:00Z" }, path: "expiresAt", says: "must be in the future" },
    { input: { expiresAt: "next tuesday" }, path: "expiresAt", says: "must be a date and time" },
    { input: { expiresAt: "2999-01-01T00:00:00Z" }, path: "expiresAt", says: "at most 3650 days from now" },
    { input: { expiresInDays: 0 }, path: "expiresInDays", says: "must be at least 1" },
    { input: { expiresInDays: 1.5 }, path: "expiresInDays", says: "whole number of days" },
    { input: { expiresInDays: 3651 }, path: "expiresInDays", says: "at most 3650" },
    {
      input: { expiresInDays: 3, expiresAt: "2999-01-01T00:00:00Z" },
      path: "expiresInDays",
      says: "give expiresAt or expiresInDays, not both",
    },
  ])("refuses $input with BAD_REQUEST on $path, writing nothing", async ({ input, path, says }) => {
    const { trpc, tenant } = await newTenant("bad-scopes");
    const error = await errorOf(
      trpc.apiKey.create.mutate({ name: "bad", ...(input as object) } as { name: string }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues).toEqual([{ path, message: expect.stringContaining(says) }]);
    expect(await countRows("api_keys", "tenant_id = ?", tenant.id)).toBe(0);
  });

  it("stores the scopes and expiry in the key's row", async () => {
    const { trpc } = await newTenant("stored");
    const created = await trpc.apiKey.create.mutate({ name: "ci", scopes: ["write"], expiresInDays: 7 });
    const [row] = await rowsOf("api_keys", "id = ?", created.id);
    expect(JSON.parse(String(row?.scopes))).toEqual(["write"]);
    expect(row?.expires_at).toBe(Date.parse(created.expiresAt ?? ""));
  });
});
