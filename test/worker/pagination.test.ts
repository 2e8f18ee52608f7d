// Every list pages with `limit` and `cursor` and answers { items, nextCursor }: pages join up to the whole
// list with nothing repeated, filters hold across pages, rows added meanwhile do not shift a page, the
// page size defaults to the tenant's defaultPageSize and is capped at its maxPageSize, and a cursor this
// API did not hand out (or one from another list) is refused naming the field.
import { describe, expect, it } from "vitest";
import { metaTenant, runCode } from "../helpers/agent-code";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { roleInput } from "../helpers/fixtures";
import { seedRoles, setPlan } from "../helpers/plans";
import { model } from "../helpers/providers";
import { tenantWithOrchestration } from "../helpers/triggers";

type Page<T> = { items: T[]; nextCursor: string | null };

/** Every page of a list, following nextCursor to the end. */
async function allPages<T>(fetchPage: (cursor?: string) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
}

const names = (pages: { name: string }[][]) => pages.map((page) => page.map((item) => item.name));
const at = (cursor?: string) => (cursor ? { cursor } : {});

async function createRoles(trpc: TestClient, roleNames: string[]) {
  for (const name of roleNames) await trpc.role.create.mutate(roleInput(name));
}

describe("role.list pages", () => {
  it("pages by name with limit and cursor; the pages join to the whole list, the last has no cursor", async () => {
    const { trpc } = await newTenant();
    await createRoles(trpc, ["Echo", "Alpha", "Delta", "Bravo", "Charlie"]);

    const pages = await allPages((cursor) => trpc.role.list.query({ limit: 2, ...at(cursor) }));

    expect(names(pages)).toEqual([["Alpha", "Bravo"], ["Charlie", "Delta"], ["Echo"]]);
    const whole = await trpc.role.list.query({});
    expect(whole.items.map((r) => r.name)).toEqual(["Alpha", "Bravo", "Charlie", "Delta", "Echo"]);
    expect(whole.nextCursor).toBeNull();
  });

  it("keeps the search and tool filters across pages", async () => {
    const { trpc } = await newTenant();
    await createRoles(trpc, ["Coder A", "Coder B", "Coder C", "Reviewer"]);
    await trpc.role.create.mutate({ name: "Coder D", basePrompt: "You code.", tools: ["web"] });

    const coders = await allPages((cursor) =>
      trpc.role.list.query({ search: "coder", limit: 2, ...at(cursor) }),
    );
    expect(names(coders)).toEqual([
      ["Coder A", "Coder B"],
      ["Coder C", "Coder D"],
    ]);
    const meta = await allPages((cursor) => trpc.role.list.query({ tool: "meta", limit: 3, ...at(cursor) }));
    expect(names(meta)).toEqual([["Coder A", "Coder B", "Coder C"], ["Reviewer"]]);
  });

  it("continues after the cursor's row: a role created meanwhile before it neither repeats nor shifts the page", async () => {
    const { trpc } = await newTenant();
    await createRoles(trpc, ["B", "D", "F", "H"]);
    const first = await trpc.role.list.query({ limit: 2 });
    await createRoles(trpc, ["A", "C", "E"]);

    const second = await trpc.role.list.query({ limit: 2, cursor: first.nextCursor ?? "" });

    expect(first.items.map((r) => r.name)).toEqual(["B", "D"]);
    expect(second.items.map((r) => r.name)).toEqual(["E", "F"]);
  });

  it("orders names with characters beyond ASCII and quotes in them, and pages through them", async () => {
    const { trpc } = await newTenant();
    const odd = ['Zoë "the" coder', "Ärztin", "O'Brien", "日本語", "a%_\\"];
    await createRoles(trpc, odd);
    const pages = await allPages((cursor) => trpc.role.list.query({ limit: 1, ...at(cursor) }));
    expect(pages.flat().map((r) => r.name)).toEqual([...odd].sort());
  });
});

describe("page size", () => {
  it("answers 50 roles by default, not all of them, with the cursor of the next page", async () => {
    const { trpc, tenant } = await newTenant();
    await seedRoles(tenant.id, 120);

    const first = await trpc.role.list.query();
    const second = await trpc.role.list.query({ cursor: first.nextCursor ?? "" });
    const last = await trpc.role.list.query({ cursor: second.nextCursor ?? "" });

    expect(first.items.map((r) => r.name).slice(0, 2)).toEqual(["Seeded 0001", "Seeded 0002"]);
    expect([first.items.length, second.items.length, last.items.length]).toEqual([50, 50, 20]);
    expect(second.items[0]?.name).toBe("Seeded 0051");
    expect(last.nextCursor).toBeNull();
  });

  it("defaults to the tenant's defaultPageSize and refuses more than its maxPageSize, naming limit", async () => {
    const { trpc, tenant } = await newTenant();
    await createRoles(trpc, ["A", "B", "C", "D"]);
    await setPlan(tenant.id, { defaultPageSize: 3, maxPageSize: 3 });

    const page = await trpc.role.list.query();
    expect(page.items).toHaveLength(3);
    expect(page.nextCursor).not.toBeNull();
    const tooMany = await errorOf(trpc.role.list.query({ limit: 4 }));
    expect(tooMany).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "limit", message: "must be at most 3 (maxPageSize)" }],
    });
  });

  it("refuses a page above the default maxPageSize of 200, and a limit below 1", async () => {
    const { trpc } = await newTenant();
    for (const call of [
      trpc.role.list.query({ limit: 201 }),
      trpc.orchestrationManagement.list.query({ limit: 201 }),
      trpc.provider.list.query({ limit: 201 }),
      trpc.apiKey.list.query({ limit: 201 }),
      trpc.agent.runs.query({ limit: 201 }),
    ]) {
      const error = await errorOf(call);
      expect(error).toMatchObject({ code: "BAD_REQUEST" });
      expect(error.issues).toEqual([{ path: "limit", message: "must be at most 200 (maxPageSize)" }]);
    }
    const zero = await errorOf(trpc.role.list.query({ limit: 0 }));
    expect(zero.issues).toEqual([{ path: "limit", message: "must be at least 1" }]);
  });

  it("a plan may raise maxPageSize above 200", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxPageSize: 500 });
    expect((await trpc.role.list.query({ limit: 500 })).items).toEqual([]);
  });
});

describe("cursors", () => {
  it("refuses a cursor this API did not hand out, naming cursor", async () => {
    const { trpc } = await newTenant();
    for (const cursor of ["page-2", "", "!!!", btoa("[1,2,3]"), btoa('{"name":"x"}'), "x".repeat(2000)]) {
      const error = await errorOf(trpc.role.list.query({ cursor }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.issues).toEqual([
        { path: "cursor", message: "must be a nextCursor returned by the same list" },
      ]);
    }
  });

  it("refuses a cursor from another kind of list (a time where a name belongs)", async () => {
    const { trpc } = await newTenant();
    await trpc.apiKey.create.mutate({ name: "one" });
    await trpc.apiKey.create.mutate({ name: "two" });
    const keys = await trpc.apiKey.list.query({ limit: 1 });
    const error = await errorOf(trpc.role.list.query({ cursor: keys.nextCursor ?? "" }));
    expect(error).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "cursor" }] });
  });

  it("a cursor carries no tenant: another tenant's cursor only pages that tenant's own rows", async () => {
    const [owner, other] = await Promise.all([newTenant("owner"), newTenant("other")]);
    await createRoles(owner.trpc, ["A secret", "B secret", "C secret"]);
    await createRoles(other.trpc, ["Z mine"]);
    const ownersCursor = (await owner.trpc.role.list.query({ limit: 1 })).nextCursor ?? "";
    const page = await other.trpc.role.list.query({ cursor: ownersCursor });
    expect(page.items.map((r) => r.name)).toEqual(["Z mine"]);
  });
});

describe("the other lists page the same way", () => {
  it("orchestrationManagement.list pages by name and keeps its tag filter", async () => {
    const { trpc } = await newTenant();
    for (const name of ["Delta", "Alpha", "Charlie", "Bravo"]) {
      await trpc.orchestrationManagement.create.mutate({
        name,
        tags: name === "Bravo" ? ["other"] : ["paged"],
        steps: [{ name: "Only", roleName: "Nobody" }],
      });
    }
    const paged = await allPages((cursor) =>
      trpc.orchestrationManagement.list.query({ tags: ["paged"], limit: 2, ...at(cursor) }),
    );
    expect(names(paged)).toEqual([["Alpha", "Charlie"], ["Delta"]]);
    expect(paged[0]?.[0]?.warnings).toEqual([expect.objectContaining({ path: "steps[0].roleName" })]);
  });

  it("orchestrationManagement.versions pages newest first", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Versioned",
      steps: [{ name: "Only", roleName: "Nobody" }],
    });
    for (const description of ["two", "three", "four", "five"]) {
      await trpc.orchestrationManagement.update.mutate({
        orchestrationId: created.id,
        updates: { description },
      });
    }
    const pages = await allPages((cursor) =>
      trpc.orchestrationManagement.versions.query({ orchestrationId: created.id, limit: 2, ...at(cursor) }),
    );
    expect(pages.map((page) => page.map((v) => v.version))).toEqual([[5, 4], [3, 2], [1]]);
  });

  it("provider.list pages by name", async () => {
    const { trpc } = await newTenant();
    for (const name of ["gamma", "alpha", "beta"]) {
      await trpc.provider.create.mutate({ name, kind: "workers-ai", models: [model({ id: "@cf/m" })] });
    }
    const pages = await allPages((cursor) => trpc.provider.list.query({ limit: 2, ...at(cursor) }));
    expect(names(pages)).toEqual([["alpha", "beta"], ["gamma"]]);
  });

  it("apiKey.list pages newest first, revoked keys included", async () => {
    const { trpc } = await newTenant();
    const created = [];
    for (const name of ["first", "second", "third"]) created.push(await trpc.apiKey.create.mutate({ name }));
    await trpc.apiKey.revoke.mutate({ apiKeyId: created[1]?.id ?? "" });
    const pages = await allPages((cursor) => trpc.apiKey.list.query({ limit: 2, ...at(cursor) }));
    expect(names(pages)).toEqual([["third", "second"], ["first"]]);
    expect(pages[0]?.[1]?.revokedAt).not.toBeNull();
  });

  it("agent.runs pages newest first, with the executionId filter still accepted", async () => {
    const { trpc } = await metaTenant();
    for (const n of [1, 2, 3]) await runCode(trpc, `console.log(${n});`);
    const pages = await allPages((cursor) => trpc.agent.runs.query({ limit: 2, ...at(cursor) }));
    expect(pages.map((page) => page.length)).toEqual([2, 1]);
    const ids = pages.flat().map((run) => run.id);
    expect(new Set(ids).size).toBe(3);
    expect((await trpc.agent.runs.query({ executionId: "exe_none" })).items).toEqual([]);
  });

  it("trigger.list, schedule.list and webhook.list page past their first page", async () => {
    const { trpc, orchestrationId } = await tenantWithOrchestration("paging");
    const created: Record<string, string[]> = { triggers: [], schedules: [], webhooks: [] };
    for (const n of [1, 2, 3]) {
      created.triggers?.push(
        (await trpc.trigger.create.mutate({ orchestrationId, kind: "http" })).trigger.id,
      );
      const cron = `${n} 9 * * *`;
      created.schedules?.push((await trpc.schedule.create.mutate({ orchestrationId, cron, input: {} })).id);
      const url = `https://example.com/hooks/${n}`;
      created.webhooks?.push((await trpc.webhook.create.mutate({ url, events: ["execution.completed"] })).id);
    }
    // Two pages that join to every row once (rows created within one millisecond order by id).
    const joined = (pages: { id: string }[][]) => {
      expect(pages.map((page) => page.length)).toEqual([2, 1]);
      return pages
        .flat()
        .map((item) => item.id)
        .sort();
    };
    const triggers = await allPages((cursor) => trpc.trigger.list.query({ limit: 2, ...at(cursor) }));
    expect(joined(triggers)).toEqual(created.triggers?.sort());
    const schedules = await allPages((cursor) => trpc.schedule.list.query({ limit: 2, ...at(cursor) }));
    expect(joined(schedules)).toEqual(created.schedules?.sort());
    const webhooks = await allPages((cursor) => trpc.webhook.list.query({ limit: 2, ...at(cursor) }));
    expect(joined(webhooks)).toEqual(created.webhooks?.sort());
  });
});

describe("agent code's lists", () => {
  it("answer an array: the first page, as large as the tenant's maxPageSize", async () => {
    const { trpc, tenant } = await metaTenant();
    await createRoles(trpc, ["Alpha", "Bravo", "Charlie"]);
    await setPlan(tenant.id, { maxPageSize: 2 });

    const run = await runCode(
      trpc,
      `const roles = await list_roles();
const flows = await list_orchestrations({ activeOnly: true });
return { names: roles.map((r) => r.name), isArray: Array.isArray(roles) && Array.isArray(flows) };`,
    );

    expect(run).toMatchObject({ ok: true, result: { names: ["Alpha", "Bravo"], isArray: true } });
  });
});
