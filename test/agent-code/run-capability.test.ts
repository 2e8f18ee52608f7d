// The meta capability is issued per run by the host: a MetaTools stub bound to one run id, a token minted
// for it and its deadline. A run id or token the host did not issue is refused, a run cannot outlive its
// deadline or its end, its call budget cannot be reset, and a stub a sandbox keeps is useless later.
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { closeLedger, openLedger } from "../../worker/agent-code/ledger";
import { MAX_META_CALLS, SANDBOX_COMPATIBILITY_DATE } from "../../worker/agent-code/limits";
import type { MetaReply } from "../../worker/agent-code/meta-tools";
import { metaTenant, runCode } from "../helpers/agent-code";
import { snapshotOf } from "../helpers/fixtures";

afterEach(() => {
  vi.useRealTimers();
});

const CREATE = JSON.stringify({ name: "Smuggled", basePrompt: "p" });

/** A live run of the tenant's designer, issued as the runner issues one. */
async function issuedRun(timeoutMs = 30_000) {
  const account = await metaTenant();
  const owner = { tenantId: account.tenant.id, roleId: account.designer.id };
  const run = openLedger(`run_${crypto.randomUUID()}`, owner, Date.now() + timeoutMs, Date.now());
  return { ...account, run };
}

describe("the per-run meta capability", () => {
  it("refuses a stub for a run id or token the host did not issue, and writes nothing", async () => {
    const account = await issuedRun();
    const { run } = account;
    const before = await snapshotOf(account);
    const forgeries = [
      { ...run, runId: `run_${crypto.randomUUID()}`, token: "f".repeat(64) },
      { ...run, token: "0".repeat(64) },
      { ...run, token: openLedger("run_other", run, run.deadline, Date.now()).token },
      { tenantId: run.tenantId, roleId: run.roleId },
    ];
    for (const props of forgeries) {
      const reply = await exports.MetaTools({ props: props as typeof run }).call("create_role", CREATE);
      expect(reply).toMatchObject({
        ok: false,
        error: {
          name: "PermissionDenied",
          code: "FORBIDDEN",
          message: expect.stringContaining("was not issued by this host"),
        },
      });
    }
    expect(await snapshotOf(account)).toEqual(before);
    expect((await exports.MetaTools({ props: run }).call("list_roles", "null")).ok).toBe(true);
  });

  it("refuses calls after the run's deadline and after the run ended", async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const account = await issuedRun(1_000);
    const stub = exports.MetaTools({ props: account.run });
    expect((await stub.call("list_roles", "null")).ok).toBe(true);
    vi.setSystemTime(start + 60_000);
    expect(await stub.call("create_role", CREATE)).toMatchObject({
      ok: false,
      error: { code: "TOO_MANY_REQUESTS", message: "the run's time limit has passed" },
    });
    vi.setSystemTime(start + 500);
    closeLedger(account.run.runId, Date.now());
    expect(await stub.call("create_role", CREATE)).toMatchObject({
      ok: false,
      error: { code: "PRECONDITION_FAILED", message: "the run has already ended" },
    });
    expect(
      (await account.trpc.role.list.query({})).items.some(
        (role: { name: string }) => role.name === "Smuggled",
      ),
    ).toBe(false);
  });

  it(`keeps one budget of ${MAX_META_CALLS} calls per run that no other run id can reset`, async () => {
    const { run } = await issuedRun();
    const stub = exports.MetaTools({ props: run });
    for (let i = 0; i < MAX_META_CALLS; i++) expect((await stub.call("list_roles", "null")).ok).toBe(true);
    expect(await stub.call("list_roles", "null")).toMatchObject({
      ok: false,
      error: {
        code: "TOO_MANY_REQUESTS",
        message: `the run already made ${MAX_META_CALLS} meta calls, the limit`,
      },
    });
    const fresh = exports.MetaTools({ props: { ...run, runId: `run_${crypto.randomUUID()}` } });
    expect(await fresh.call("list_roles", "null")).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
  }, 30_000);

  it("a stub a sandbox keeps after its run is useless: refused by the host, unusable by the runtime", async () => {
    const { run } = await issuedRun();
    const worker = env.LOADER.get(`capability-probe:${crypto.randomUUID()}`, () => ({
      compatibilityDate: SANDBOX_COMPATIBILITY_DATE,
      mainModule: "main.js",
      modules: {
        "main.js": `import { WorkerEntrypoint } from "cloudflare:workers";
let kept;
export default class extends WorkerEntrypoint {
  async run(meta) { kept = meta; return await meta.call("list_roles", "null"); }
  async later() {
    try { return await kept.call("create_role", ${JSON.stringify(CREATE)}); }
    catch (error) { return { ok: false, error: { name: "Thrown", message: String(error && error.message) } }; }
  }
}`,
      },
      env: {},
      globalOutbound: null,
    }));
    const sandbox = worker.getEntrypoint() as unknown as {
      run(meta: unknown): Promise<MetaReply>;
      later(): Promise<MetaReply>;
    };
    expect((await sandbox.run(exports.MetaTools({ props: run }))).ok).toBe(true);
    closeLedger(run.runId, Date.now());
    const late = await sandbox.later();
    expect(late.ok).toBe(false);
  });

  it("gives agent code no capability outside the run: the isolate's env is empty", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      `const probes = [typeof (globalThis as any).META, typeof (globalThis as any).env];
return [...probes, (await list_roles()).length];`,
    );
    expect(run.result).toEqual(["undefined", "undefined", 1]);
    expect(run.calls).toEqual([{ name: "list_roles", ok: true, durationMs: expect.any(Number) }]);
  });
});
