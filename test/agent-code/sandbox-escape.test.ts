// Attempts to get out of the sandbox gain nothing: no platform bindings or env on globalThis, no code
// from strings, frozen meta objects, polluted prototypes that never reach the host, arguments that cannot
// name a tenant, and a MetaTools stub that offers nothing but `call` for the run, role and tenant it was issued for.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { closeLedger, openLedger } from "../../worker/agent-code/ledger";
import type { MetaReply, MetaTools } from "../../worker/agent-code/meta-tools";
import { metaTenant, runCode } from "../helpers/agent-code";
import { snapshotOf } from "../helpers/fixtures";

describe("escaping the sandbox", () => {
  it("finds no env, bindings or capability on globalThis or in scope", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      `const g = globalThis as any;
return {
  env: typeof env,
  onGlobal: ["env", "META", "DB", "LOADER", "EXECUTIONS", "__troupe"].filter((k) => k in g),
  matching: Object.getOwnPropertyNames(g).filter((k) => /meta|env|troupe|loader|^db$/i.test(k)),
  processEnv: typeof process === "object" ? Object.keys(process.env ?? {}) : [],
  self: typeof this,
  args: arguments.length,
};`,
    );
    expect(run.result).toEqual({
      env: "undefined",
      onGlobal: [],
      matching: [],
      processEnv: [],
      self: "undefined",
      args: 0,
    });
  });

  it("cannot make code from strings through any constructor", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      `const attempts: Record<string, () => unknown> = {
  eval: () => eval("1 + 1"),
  Function: () => new Function("return globalThis")(),
  viaMetaFunction: () => (create_role as any).constructor("return this")(),
  viaAsync: () => (async () => {}).constructor("return env")(),
  viaGenerator: () => (function* () {}).constructor("yield 1")().next(),
  viaSystem: () => (system as any).constructor.constructor("return this")(),
};
const outcome: Record<string, string> = {};
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    outcome[name] = "ran: " + String(attempt());
  } catch (e) {
    outcome[name] = (e as Error).name;
  }
}
return outcome;`,
    );
    expect(run.result).toEqual({
      eval: "EvalError",
      Function: "EvalError",
      viaMetaFunction: "EvalError",
      viaAsync: "EvalError",
      viaGenerator: "EvalError",
      viaSystem: "EvalError",
    });
  });

  it("finds the meta objects frozen and the meta functions plain", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      `const tamper = (f: () => void) => { try { f(); return "changed"; } catch (e) { return (e as Error).name; } };
return {
  systemFrozen: Object.isFrozen(system),
  consoleFrozen: Object.isFrozen(console),
  replaceInSystem: tamper(() => { (system as any).create_role = () => "mine"; }),
  ownProperties: Object.getOwnPropertyNames(create_role).sort(),
  prototypeIsFunctions: Object.getPrototypeOf(create_role) === Function.prototype,
  sameFunction: system.create_role === create_role,
};`,
    );
    expect(run.result).toEqual({
      systemFrozen: true,
      consoleFrozen: true,
      replaceInSystem: "TypeError",
      ownProperties: ["length", "name", "prototype"],
      prototypeIsFunctions: true,
      sameFunction: true,
    });
  });

  it("cannot reach another tenant by polluting prototypes or by naming a tenant in an argument", async () => {
    const other = await metaTenant("bystander");
    const before = await snapshotOf(other);
    const { trpc, designer } = await metaTenant("polluter");
    const run = await runCode(
      trpc,
      `const proto = Object.prototype as any;
proto.tenantId = ${JSON.stringify(other.tenant.id)};
proto.roleId = ${JSON.stringify(other.designer.id)};
proto.principal = "user:admin";
Array.prototype.includes = () => true;
const created = await create_role({ name: "Polluted", basePrompt: "p" });
let named = "";
try {
  await create_role({ name: "Named", basePrompt: "p", tenantId: ${JSON.stringify(other.tenant.id)} } as any);
} catch (e) {
  named = (e as Error).message;
}
return { createdBy: created.createdBy, roles: (await list_roles()).map((r) => r.name), named };`,
    );
    expect(run.result).toEqual({
      createdBy: `role:${designer.id}`,
      roles: ["Orchestration Designer", "Polluted"],
      named:
        'create_role: unknown field "tenantId"; the fields are name, description, basePrompt, capabilities, contextLimits, hyperparameters, tools, needsTools',
    });
    expect(await snapshotOf(other)).toEqual(before);
  });

  it("gains nothing from a MetaTools stub beyond call() as the run, role and tenant it was issued for", async () => {
    const { tenant, designer } = await metaTenant();
    const owner = { tenantId: tenant.id, roleId: designer.id };
    const run = openLedger(`run_${crypto.randomUUID()}`, owner, Date.now() + 30_000, Date.now());
    const stub = exports.MetaTools({ props: run });
    const loose = stub as unknown as Record<string, Promise<unknown>>;
    for (const member of ["env", "ctx"]) {
      await expect((async () => await loose[member])()).rejects.toThrow(
        /The RPC receiver does not implement/,
      );
    }
    const reply = (name: string, payload = "null") => stub.call(name, payload);
    for (const name of ["constructor", "__proto__", "toString", "invokeMeta", "startExecution"]) {
      expect(await reply(name)).toMatchObject({
        ok: false,
        error: { name: "NotFoundError", code: "NOT_FOUND" },
      });
    }
    expect(await reply("list_roles", "{not json")).toMatchObject({
      ok: false,
      error: { message: "the argument is not valid JSON" },
    });
    const unbound = exports.MetaTools as unknown as { call: MetaTools["call"] };
    expect(await unbound.call("list_roles", "null")).toMatchObject({
      ok: false,
      error: { code: "FORBIDDEN", message: "MetaTools is not bound to a tenant and a role" },
    });
    const listed = (await reply("list_roles")) as MetaReply;
    expect(listed.ok && (listed.value as { name: string }[]).map((r) => r.name)).toEqual([
      "Orchestration Designer",
    ]);
    closeLedger(run.runId, Date.now());
  });
});
