// Tenant isolation through every procedure: two tenants side by side, each with a session and an API key.
// Another tenant's rows must be indistinguishable from rows that do not exist (NOT_FOUND) and stay untouched.
import { env } from "cloudflare:workers";
import type { AnyTRPCProcedure } from "@trpc/server";
import { beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../../worker/trpc/routers/_app";
import { errorOf, makeClient, type TestClient } from "../helpers/client";
import { countRows } from "../helpers/db";
import {
  orchestrationInput,
  roleInput,
  snapshotOf,
  storedRowsOf,
  tenantWithApiKey,
  withExtraFields,
} from "../helpers/fixtures";

const SHARED_ROLE = "Reviewer";
const SHARED_ORCHESTRATION = "Review pipeline";

async function seedTenant(label: "A" | "B") {
  const account = await tenantWithApiKey(`tenancy-${label}`);
  const { trpc } = account;
  const sharedRole = await trpc.role.create.mutate(roleInput(SHARED_ROLE));
  const ownRole = await account.keyClient.role.create.mutate(roleInput(`Only in ${label}`));
  const sharedOrchestration = await trpc.orchestrationManagement.create.mutate(
    orchestrationInput(SHARED_ORCHESTRATION, SHARED_ROLE),
  );
  const created = await trpc.orchestrationManagement.create.mutate(
    orchestrationInput(`Pipeline only in ${label}`, ownRole.name),
  );
  // A second version, so `versions` and `get` at a version have history to leak.
  const ownOrchestration = await trpc.orchestrationManagement.update.mutate({
    orchestrationId: created.id,
    updates: { description: "second version" },
  });
  const spareKey = await trpc.apiKey.create.mutate({ name: `${label} spare` });
  return { ...account, label, sharedRole, ownRole, sharedOrchestration, ownOrchestration, spareKey };
}
type Tenant = Awaited<ReturnType<typeof seedTenant>>;

const tenants = {} as Record<"A" | "B", Tenant>;
beforeAll(async () => {
  tenants.A = await seedTenant("A");
  tenants.B = await seedTenant("B");
  for (const { tenant } of Object.values(tenants)) {
    const stored = await storedRowsOf(tenant.id);
    expect(stored.roles).toHaveLength(2);
    expect(stored.orchestrationVersions).toHaveLength(3);
    expect(stored.apiKeys).toHaveLength(2);
  }
});

const DIRECTIONS = [
  { from: "A", to: "B" },
  { from: "B", to: "A" },
] as const;
const CALLERS = ["session", "API key"] as const;
type CallerKind = (typeof CALLERS)[number];
const clientOf = (tenant: Tenant, via: CallerKind) => (via === "session" ? tenant.trpc : tenant.keyClient);

/** What an attack aims at: the victim's rows, or made-up ones that exist nowhere. */
interface Targets {
  roleId: string;
  roleName: string;
  orchestrationId: string;
  orchestrationName: string;
  apiKeyId: string;
}
const targetsIn = (victim: Tenant): Targets => ({
  roleId: victim.ownRole.id,
  roleName: victim.ownRole.name,
  orchestrationId: victim.ownOrchestration.id,
  orchestrationName: victim.ownOrchestration.name,
  apiKeyId: victim.apiKey.id,
});
const NOWHERE: Targets = {
  roleId: "rol_00000000000000000000000000",
  roleName: "No such role",
  orchestrationId: "orc_00000000000000000000000000",
  orchestrationName: "No such pipeline",
  apiKeyId: "key_00000000000000000000000000",
};
const masked = (message: string, targets: Targets) =>
  Object.values(targets).reduce((text, value) => text.replaceAll(value, "<target>"), message);

interface Attack {
  procedure: string;
  /** Session-only procedures refuse every API key with FORBIDDEN before looking at the input. */
  sessionOnly?: true;
  run: (client: TestClient, target: Targets) => Promise<unknown>;
}
const ATTACKS: Attack[] = [
  { procedure: "role.get by id", run: (c, t) => c.role.get.query({ nameOrId: t.roleId }) },
  { procedure: "role.get by name", run: (c, t) => c.role.get.query({ nameOrId: t.roleName }) },
  {
    procedure: "role.update",
    run: (c, t) => c.role.update.mutate({ roleId: t.roleId, updates: { basePrompt: "Hijacked." } }),
  },
  { procedure: "role.delete", run: (c, t) => c.role.delete.mutate({ roleId: t.roleId }) },
  {
    procedure: "orchestrationManagement.get by id",
    run: (c, t) => c.orchestrationManagement.get.query({ nameOrId: t.orchestrationId }),
  },
  {
    procedure: "orchestrationManagement.get by name",
    run: (c, t) => c.orchestrationManagement.get.query({ nameOrId: t.orchestrationName }),
  },
  {
    procedure: "orchestrationManagement.get by id at version 1",
    run: (c, t) => c.orchestrationManagement.get.query({ nameOrId: t.orchestrationId, version: 1 }),
  },
  {
    procedure: "orchestrationManagement.get by name at version 1",
    run: (c, t) => c.orchestrationManagement.get.query({ nameOrId: t.orchestrationName, version: 1 }),
  },
  {
    procedure: "orchestrationManagement.versions",
    run: (c, t) => c.orchestrationManagement.versions.query({ orchestrationId: t.orchestrationId }),
  },
  {
    procedure: "orchestrationManagement.update",
    run: (c, t) =>
      c.orchestrationManagement.update.mutate({
        orchestrationId: t.orchestrationId,
        updates: { description: "Hijacked." },
      }),
  },
  {
    // The victim is at version 2: a version check before the tenant check would answer CONFLICT.
    procedure: "orchestrationManagement.update with a stale expectedVersion",
    run: (c, t) =>
      c.orchestrationManagement.update.mutate({
        orchestrationId: t.orchestrationId,
        expectedVersion: 1,
        updates: { isActive: false },
      }),
  },
  {
    procedure: "orchestrationManagement.delete",
    run: (c, t) => c.orchestrationManagement.delete.mutate({ orchestrationId: t.orchestrationId }),
  },
  {
    // execute takes a name or an id; either way it must not start a run of another tenant's orchestration.
    procedure: "orchestrationManagement.execute by id",
    run: (c, t) => c.orchestrationManagement.execute.mutate({ orchestrationId: t.orchestrationId }),
  },
  {
    procedure: "orchestrationManagement.execute by name",
    run: (c, t) => c.orchestrationManagement.execute.mutate({ orchestrationId: t.orchestrationName }),
  },
  {
    procedure: "apiKey.revoke",
    sessionOnly: true,
    run: (c, t) => c.apiKey.revoke.mutate({ apiKeyId: t.apiKeyId }),
  },
];

/** Runs `act`, then proves neither tenant changed: the victim as stored and as its owner sees it. */
async function expectNothingChanged(caller: Tenant, victim: Tenant, act: () => Promise<void>) {
  const [victimBefore, callerBefore] = await Promise.all([
    snapshotOf(victim),
    storedRowsOf(caller.tenant.id),
  ]);
  await act();
  expect(await snapshotOf(victim)).toEqual(victimBefore);
  expect(await storedRowsOf(caller.tenant.id)).toEqual(callerBefore);
  // The victim's key still authenticates, in the victim's tenant.
  const me = await victim.keyClient.auth.me.query();
  expect(me.tenant.id).toBe(victim.tenant.id);
}

describe("another tenant's id or name answers NOT_FOUND, exactly like one that does not exist", () => {
  const cases = DIRECTIONS.flatMap(({ from, to }) =>
    CALLERS.flatMap((via) =>
      ATTACKS.filter((attack) => via === "session" || !attack.sessionOnly).map((attack) => ({
        title: `${from}'s ${via} -> ${attack.procedure} on ${to}'s row`,
        from,
        to,
        via,
        attack,
      })),
    ),
  );

  it.each(cases)("$title", async ({ from, to, via, attack }) => {
    const caller = tenants[from];
    const victim = tenants[to];
    const client = clientOf(caller, via);
    await expectNothingChanged(caller, victim, async () => {
      const error = await errorOf(attack.run(client, targetsIn(victim)));
      expect(error).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
      const missing = await errorOf(attack.run(client, NOWHERE));
      expect(masked(error.message, targetsIn(victim))).toBe(masked(missing.message, NOWHERE));
      expect(error.issues).toEqual(missing.issues);
    });
  });

  it.each(DIRECTIONS)(
    "$from's API key is FORBIDDEN from every apiKey procedure, whoever's key it names",
    async ({ from, to }) => {
      const caller = tenants[from];
      const victim = tenants[to];
      await expectNothingChanged(caller, victim, async () => {
        const { apiKey } = caller.keyClient;
        const calls = [
          () => apiKey.list.query(),
          () => apiKey.create.mutate({ name: "minted by a key" }),
          () => apiKey.revoke.mutate({ apiKeyId: victim.apiKey.id }),
          () => apiKey.revoke.mutate({ apiKeyId: caller.spareKey.id }),
          () => apiKey.revoke.mutate({ apiKeyId: NOWHERE.apiKeyId }),
        ];
        for (const call of calls) expect(await errorOf(call())).toMatchObject({ code: "FORBIDDEN" });
      });
    },
  );
});

describe("lists show only the caller's tenant", () => {
  const cases = DIRECTIONS.flatMap(({ from, to }) => CALLERS.map((via) => ({ from, to, via })));

  it.each(cases)("$from's $via lists none of $to's roles or orchestrations", async ({ from, to, via }) => {
    const caller = tenants[from];
    const victim = tenants[to];
    const client = clientOf(caller, via);
    const ids = (rows: { id?: unknown }[]) => rows.map((row) => row.id).toSorted();
    const stored = await storedRowsOf(caller.tenant.id);

    expect(ids((await client.role.list.query()).items)).toEqual(ids(stored.roles));
    expect(ids((await client.orchestrationManagement.list.query()).items)).toEqual(
      ids(stored.orchestrations),
    );
    expect((await client.role.list.query({ search: victim.ownRole.name })).items).toEqual([]);
    expect(
      (await client.orchestrationManagement.list.query({ search: victim.ownOrchestration.name })).items,
    ).toEqual([]);
    const tagged = (await client.orchestrationManagement.list.query({ tags: ["tenancy"] })).items;
    expect(tagged.map((o) => o.id)).not.toContain(victim.sharedOrchestration.id);
    expect(tagged.map((o) => o.id)).toContain(caller.sharedOrchestration.id);
  });

  it.each(DIRECTIONS)("$from's session lists only its own API keys, none of $to's", async ({ from, to }) => {
    const listed = (await tenants[from].trpc.apiKey.list.query()).items;
    const stored = await storedRowsOf(tenants[from].tenant.id);
    expect(listed.map((k) => k.id).toSorted()).toEqual(stored.apiKeys.map((k) => k.id).toSorted());
    for (const theirs of [tenants[to].apiKey.id, tenants[to].spareKey.id]) {
      expect(listed.map((k) => k.id)).not.toContain(theirs);
    }
  });
});

describe("names are per tenant", () => {
  it("lets both tenants use the same role and orchestration names, each reading its own", async () => {
    const { A, B } = tenants;
    for (const tenant of [A, B]) {
      for (const client of [tenant.trpc, tenant.keyClient]) {
        expect((await client.role.get.query({ nameOrId: SHARED_ROLE })).id).toBe(tenant.sharedRole.id);
        const pipeline = await client.orchestrationManagement.get.query({ nameOrId: SHARED_ORCHESTRATION });
        expect(pipeline.id).toBe(tenant.sharedOrchestration.id);
        expect(pipeline.warnings).toEqual([]);
      }
    }
    expect(A.sharedRole.id).not.toBe(B.sharedRole.id);
    const sameName = await env.DB.prepare(
      "select tenant_id from roles where name = ? and tenant_id in (?, ?)",
    )
      .bind(SHARED_ROLE, A.tenant.id, B.tenant.id)
      .all<{ tenant_id: string }>();
    expect(sameName.results.map((r) => r.tenant_id).toSorted()).toEqual(
      [A.tenant.id, B.tenant.id].toSorted(),
    );
  });

  it("still refuses a duplicate name within one tenant", async () => {
    const error = await errorOf(tenants.A.trpc.role.create.mutate(roleInput(SHARED_ROLE)));
    expect(error).toMatchObject({ code: "CONFLICT", issues: [{ path: "name" }] });
  });

  it("resolves a name equal to the other tenant's id to the caller's own row, never to theirs", async () => {
    // A fresh pair: the decoys below would shadow B's ids for every later test of the shared tenants.
    const A = await seedTenant("A");
    const B = await seedTenant("B");
    const decoyRole = await A.trpc.role.create.mutate(roleInput(B.ownRole.id));
    const decoy = await A.trpc.orchestrationManagement.create.mutate(
      orchestrationInput(B.ownOrchestration.id, SHARED_ROLE),
    );
    expect((await A.trpc.role.get.query({ nameOrId: B.ownRole.id })).id).toBe(decoyRole.id);
    expect(
      (await A.keyClient.orchestrationManagement.get.query({ nameOrId: B.ownOrchestration.id })).id,
    ).toBe(decoy.id);
    // Procedures that take an id never fall back to a name.
    await expectNothingChanged(A, B, async () => {
      const orchestrationId = B.ownOrchestration.id;
      for (const call of [
        () => A.trpc.role.update.mutate({ roleId: B.ownRole.id, updates: { description: "Hijacked." } }),
        () => A.trpc.role.delete.mutate({ roleId: B.ownRole.id }),
        () => A.trpc.orchestrationManagement.versions.query({ orchestrationId }),
        () =>
          A.trpc.orchestrationManagement.update.mutate({
            orchestrationId,
            updates: { description: "Hijacked." },
          }),
        () => A.trpc.orchestrationManagement.delete.mutate({ orchestrationId }),
      ]) {
        expect(await errorOf(call())).toMatchObject({ code: "NOT_FOUND" });
      }
    });
  });

  it("warns in A about a step whose role exists only in B", async () => {
    const { A, B } = tenants;
    const definition = orchestrationInput("Borrows B's role", B.ownRole.name);
    const missingRole = {
      path: "steps[0].roleName",
      message: expect.stringContaining(`role "${B.ownRole.name}" does not exist`),
    };
    const inA = await A.keyClient.orchestrationManagement.create.mutate(definition);
    expect(inA.warnings).toContainEqual(missingRole);
    expect((await A.trpc.orchestrationManagement.get.query({ nameOrId: inA.id })).warnings).toContainEqual(
      missingRole,
    );
    const inB = await B.trpc.orchestrationManagement.create.mutate(definition);
    expect(inB.warnings).toEqual([]);
  });
});

describe("an API key acts only in its own tenant", () => {
  it.each(DIRECTIONS)(
    "$from's key is $from, and what it writes belongs to $from alone",
    async ({ from, to }) => {
      const owner = tenants[from];
      const other = tenants[to];
      expect(await owner.keyClient.auth.me.query()).toMatchObject({
        via: "apiKey",
        tenant: { id: owner.tenant.id },
        apiKey: { id: owner.apiKey.id },
      });
      // ownRole was created through the key while seeding.
      const [stored] = await env.DB.prepare("select tenant_id, created_by from roles where id = ?")
        .bind(owner.ownRole.id)
        .raw<[string, string]>();
      expect(stored).toEqual([owner.tenant.id, `apiKey:${owner.apiKey.id}`]);
      expect((await owner.trpc.role.get.query({ nameOrId: owner.ownRole.id })).createdBy).toBe(
        `apiKey:${owner.apiKey.id}`,
      );
      for (const client of [other.trpc, other.keyClient]) {
        expect(await errorOf(client.role.get.query({ nameOrId: owner.ownRole.id }))).toMatchObject({
          code: "NOT_FOUND",
        });
      }
    },
  );

  it("follows the bearer key, not a session cookie or a tenant header sent with it", async () => {
    const { A, B } = tenants;
    const mixed = makeClient({
      apiKey: A.apiKey.key,
      ...(B.trpc.jar.cookie ? { cookie: B.trpc.jar.cookie } : {}),
      headers: { "x-tenant-id": B.tenant.id, "cf-tenant-id": B.tenant.id },
    });
    expect(B.trpc.jar.cookie).toBeTruthy();
    expect(await mixed.auth.me.query()).toMatchObject({ via: "apiKey", tenant: { id: A.tenant.id } });
    expect(await errorOf(mixed.role.get.query({ nameOrId: B.ownRole.id }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("input that tries to name a tenant is refused and writes nothing", () => {
  // Unique, so "nothing was written" can be checked across every tenant in the database.
  const SMUGGLED = `Smuggled ${crypto.randomUUID().slice(0, 8)}`;
  type Extra = Record<string, unknown>;
  type Smuggle = (a: Tenant, b: Tenant, extra: Extra) => Promise<unknown>;

  /** Every procedure that takes input, called by A with `extra` added to its top-level input. */
  const TOP_LEVEL: Record<string, Smuggle> = {
    "role.create": (a, _b, x) => a.trpc.role.create.mutate(withExtraFields(roleInput(SMUGGLED), x)),
    "role.create through an API key": (a, _b, x) =>
      a.keyClient.role.create.mutate(withExtraFields(roleInput(SMUGGLED), x)),
    "role.list": (a, _b, x) => a.trpc.role.list.query(withExtraFields({}, x)),
    "role.get": (a, b, x) => a.trpc.role.get.query(withExtraFields({ nameOrId: b.ownRole.id }, x)),
    "role.update": (a, _b, x) =>
      a.trpc.role.update.mutate(
        withExtraFields({ roleId: a.ownRole.id, updates: { basePrompt: SMUGGLED } }, x),
      ),
    "role.delete": (a, _b, x) => a.trpc.role.delete.mutate(withExtraFields({ roleId: a.ownRole.id }, x)),
    "orchestrationManagement.create": (a, _b, x) =>
      a.trpc.orchestrationManagement.create.mutate(
        withExtraFields(orchestrationInput(SMUGGLED, SHARED_ROLE), x),
      ),
    "orchestrationManagement.list": (a, _b, x) =>
      a.trpc.orchestrationManagement.list.query(withExtraFields({}, x)),
    "orchestrationManagement.get": (a, b, x) =>
      a.trpc.orchestrationManagement.get.query(withExtraFields({ nameOrId: b.ownOrchestration.id }, x)),
    "orchestrationManagement.versions": (a, b, x) =>
      a.trpc.orchestrationManagement.versions.query(
        withExtraFields({ orchestrationId: b.ownOrchestration.id }, x),
      ),
    "orchestrationManagement.update": (a, _b, x) =>
      a.trpc.orchestrationManagement.update.mutate(
        withExtraFields({ orchestrationId: a.ownOrchestration.id, updates: { description: SMUGGLED } }, x),
      ),
    "orchestrationManagement.delete": (a, _b, x) =>
      a.trpc.orchestrationManagement.delete.mutate(
        withExtraFields({ orchestrationId: a.ownOrchestration.id }, x),
      ),
    "apiKey.create": (a, _b, x) => a.trpc.apiKey.create.mutate(withExtraFields({ name: SMUGGLED }, x)),
    "apiKey.revoke": (a, _b, x) =>
      a.trpc.apiKey.revoke.mutate(withExtraFields({ apiKeyId: a.spareKey.id }, x)),
  };
  /** The same, with `extra` added to a nested object instead. */
  const NESTED: Record<string, { path: string; run: Smuggle }> = {
    "role.update inside updates": {
      path: "updates",
      run: (a, _b, x) =>
        a.trpc.role.update.mutate({
          roleId: a.ownRole.id,
          updates: withExtraFields({ basePrompt: SMUGGLED }, x),
        }),
    },
    "orchestrationManagement.update inside updates": {
      path: "updates",
      run: (a, _b, x) =>
        a.trpc.orchestrationManagement.update.mutate({
          orchestrationId: a.ownOrchestration.id,
          updates: withExtraFields({ description: SMUGGLED }, x),
        }),
    },
    "orchestrationManagement.create inside a step": {
      path: "steps[0].tenantId",
      run: (a, _b, x) =>
        a.trpc.orchestrationManagement.create.mutate({
          name: SMUGGLED,
          steps: [withExtraFields({ name: "Only step", roleName: SHARED_ROLE }, x)],
        }),
    },
  };
  const tenantOf = (b: Tenant): Extra => ({ tenantId: b.tenant.id });
  const roleCreate = TOP_LEVEL["role.create"] as Smuggle;
  const cases = [
    ...Object.entries(TOP_LEVEL).map(([call, run]) => ({
      title: `${call} with tenantId`,
      path: "",
      extra: tenantOf,
      run,
    })),
    ...Object.entries(NESTED).map(([call, { path, run }]) => ({
      title: `${call} with tenantId`,
      path,
      extra: tenantOf,
      run,
    })),
    {
      title: "role.create with the other tenant's role id",
      path: "",
      extra: (b: Tenant): Extra => ({ id: b.ownRole.id }),
      run: roleCreate,
    },
    {
      title: "role.create with createdBy naming the other tenant's user",
      path: "",
      extra: (b: Tenant): Extra => ({ createdBy: `user:${b.user.id}` }),
      run: roleCreate,
    },
  ];

  it.each(cases)("$title is BAD_REQUEST", async ({ path, extra, run }) => {
    const { A, B } = tenants;
    const fields = extra(B);
    await expectNothingChanged(A, B, async () => {
      const error = await errorOf(run(A, B, fields));
      expect(error).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
      for (const key of Object.keys(fields)) {
        expect(error.issues).toContainEqual({ path, message: expect.stringContaining(`"${key}"`) });
      }
    });
    for (const table of ["roles", "orchestrations", "api_keys"]) {
      expect(await countRows(table, "name = ?", SMUGGLED)).toBe(0);
    }
  });
});

describe("an unauthenticated caller is refused by every authed procedure", () => {
  const PUBLIC_PROCEDURES = new Set(["auth.signup", "auth.login", "auth.logout"]);
  // At run time `procedures` is flat ("role.create"), though typed as the nested record.
  const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
  const authed = Object.entries(procedures)
    .filter(([path]) => !PUBLIC_PROCEDURES.has(path))
    .map(([path, procedure]) => ({ path, type: procedure._def.type }));

  /** Calls a procedure by its dotted path, with no input: authentication is checked before input. */
  function callAt(client: TestClient, path: string, type: string): Promise<unknown> {
    let node: unknown = client;
    for (const key of path.split(".")) node = (node as Record<string, unknown>)[key];
    const procedure = node as {
      query(input?: unknown): Promise<unknown>;
      mutate(input?: unknown): Promise<unknown>;
      subscribe(
        input: unknown,
        handlers: { onData(): void; onError(error: unknown): void },
      ): { unsubscribe(): void };
    };
    if (type === "query") return procedure.query(undefined);
    if (type === "mutation") return procedure.mutate(undefined);
    if (type === "subscription") {
      // Settles with the first thing the stream says: data (accepted) or an error.
      return new Promise((resolve, reject) => {
        const subscription = procedure.subscribe(undefined, {
          onData: () => {
            subscription.unsubscribe();
            resolve(undefined);
          },
          onError: (error) => {
            subscription.unsubscribe();
            reject(error);
          },
        });
      });
    }
    throw new Error(`${path}: this test does not know how to call a ${type} procedure`);
  }

  it("enumerates the whole router", () => {
    expect(authed.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        "auth.me",
        "apiKey.create",
        "apiKey.list",
        "apiKey.revoke",
        "role.create",
        "role.list",
        "role.get",
        "role.update",
        "role.delete",
        "orchestrationManagement.create",
        "orchestrationManagement.list",
        "orchestrationManagement.get",
        "orchestrationManagement.versions",
        "orchestrationManagement.update",
        "orchestrationManagement.delete",
        "orchestrationManagement.watchExecution",
      ]),
    );
  });

  it.each(authed)("$path answers UNAUTHORIZED without credentials", async ({ path, type }) => {
    const error = await errorOf(callAt(makeClient(), path, type));
    expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });

  it.each(authed)(
    "$path answers UNAUTHORIZED to a revoked key or an unknown session",
    async ({ path, type }) => {
      const { A } = tenants;
      const revoked = await A.trpc.apiKey.create.mutate({ name: `revoked for ${path}` });
      await A.trpc.apiKey.revoke.mutate({ apiKeyId: revoked.id });
      const strangers = [
        makeClient({ apiKey: revoked.key }),
        makeClient({ cookie: `troupe_session=${"0".repeat(64)}` }),
        makeClient({ apiKey: "trp_not-a-real-key" }),
      ];
      for (const stranger of strangers) {
        expect(await errorOf(callAt(stranger, path, type))).toMatchObject({ code: "UNAUTHORIZED" });
      }
    },
  );
});
