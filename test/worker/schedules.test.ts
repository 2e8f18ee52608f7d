// Cron schedules through the real Worker: create checks the cron (5 fields, croner) and the time zone and
// shows the next runs; the scheduled handler starts each due (schedule, minute) at most once, however
// often it runs, concurrently or back to back; missed minutes are not made up; paused or orphaned
// schedules start nothing. Ticks are driven with an explicit `now` (fireDueSchedules), and once through
// the Worker's own scheduled handler.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { nextRuns, parseCron } from "../../worker/schedules/cron";
import { fireDueSchedules, STALE_CLAIM_MS } from "../../worker/schedules/fire";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { countRows, rowsOf } from "../helpers/db";
import { executionsOf, tenantWithOrchestration } from "../helpers/triggers";

const MINUTE_MS = 60_000;

/** Schedules made by a test, deleted after it so no later tick of another test starts them. */
const made: { trpc: TestClient; id: string }[] = [];
afterEach(async () => {
  for (const { trpc, id } of made.splice(0)) await trpc.schedule.delete.mutate({ id }).catch(() => undefined);
});

async function everyMinute(label: string, input: unknown = { from: "cron" }) {
  const tenant = await tenantWithOrchestration(label);
  const schedule = await tenant.trpc.schedule.create.mutate({
    orchestrationId: tenant.orchestrationId,
    cron: "* * * * *",
    input: input as Record<string, string>,
  });
  made.push({ trpc: tenant.trpc, id: schedule.id });
  const dueAt = Date.parse(schedule.nextRuns[0] ?? "");
  return { ...tenant, schedule, dueAt };
}

async function nextRunAt(scheduleId: string): Promise<number | null> {
  const [row] = await rowsOf("schedules", "id = ?", scheduleId);
  return (row?.next_run_at as number | null) ?? null;
}

describe("schedule.create", () => {
  it("answers the next 5 runs and stores the first as due", async () => {
    const { trpc, orchestrationId } = await tenantWithOrchestration("schedule-create");
    const before = Date.now();
    const schedule = await trpc.schedule.create.mutate({
      orchestrationId,
      cron: "*/15 * * * *",
      input: { a: 1 },
    });
    made.push({ trpc, id: schedule.id });
    expect(schedule).toMatchObject({
      cron: "*/15 * * * *",
      timezone: "UTC",
      status: "active",
      input: { a: 1 },
    });
    expect(schedule.nextRuns).toHaveLength(5);
    const times = schedule.nextRuns.map((iso) => Date.parse(iso));
    expect(times[0]).toBeGreaterThan(before);
    for (const [i, time] of times.entries()) {
      expect(new Date(time).getUTCMinutes() % 15).toBe(0);
      if (i > 0) expect(time - (times[i - 1] ?? 0)).toBe(15 * MINUTE_MS);
    }
    expect(await nextRunAt(schedule.id)).toBe(times[0]);
    const listed = await trpc.schedule.list.query({ orchestrationId });
    expect(listed.items.map((item) => item.id)).toEqual([schedule.id]);
    expect(listed.items[0]?.nextRuns).toHaveLength(5);
  });

  it("reads the cron in its time zone, across a DST change", async () => {
    const { trpc, orchestrationId } = await tenantWithOrchestration("schedule-tz");
    // 09:00 in New York on the 1st of March (EST, UTC-5) and of April (EDT, UTC-4).
    const schedule = await trpc.schedule.create.mutate({
      orchestrationId,
      cron: "0 9 1 3,4 *",
      timezone: "America/New_York",
    });
    made.push({ trpc, id: schedule.id });
    const local = new Intl.DateTimeFormat("en-US", {
      timeZone: "America/New_York",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    for (const iso of schedule.nextRuns) expect(local.format(new Date(iso))).toBe("09:00");
    const utcHours = schedule.nextRuns.map((iso) => [
      new Date(iso).getUTCMonth() + 1,
      new Date(iso).getUTCHours(),
    ]);
    for (const [month, hour] of utcHours) expect(hour).toBe(month === 3 ? 14 : 13);
  });

  it("runs a time skipped by the spring-forward gap at the first minute after it (croner, pure)", () => {
    // Berlin skips 02:00-03:00 local on 2027-03-28: 02:30 runs at 03:00 local (01:00 UTC) that day.
    const clock = parseCron("30 2 * * *", "Europe/Berlin");
    const runs = nextRuns(clock, Date.parse("2027-03-27T00:00:00Z"), 3).map((d) => d.toISOString());
    expect(runs).toEqual([
      "2027-03-27T01:30:00.000Z",
      "2027-03-28T01:00:00.000Z",
      "2027-03-29T00:30:00.000Z",
    ]);
  });

  it("refuses a bad cron, seconds, a bad time zone or an unknown orchestration, writing nothing", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("schedule-bad");
    const cases = [
      {
        input: { orchestrationId, cron: "0 0 * * * *" },
        code: "BAD_REQUEST",
        path: "cron",
        says: "has 6 fields",
      },
      { input: { orchestrationId, cron: "61 * * * *" }, code: "BAD_REQUEST", path: "cron", says: "minute" },
      { input: { orchestrationId, cron: "every day" }, code: "BAD_REQUEST", path: "cron", says: "2 fields" },
      {
        input: { orchestrationId, cron: "0 0 31 2 *" },
        code: "BAD_REQUEST",
        path: "cron",
        says: "never matches",
      },
      { input: { orchestrationId, cron: "" }, code: "BAD_REQUEST", path: "cron", says: "must not be empty" },
      {
        input: { orchestrationId, cron: "0 9 * * *", timezone: "Mars/Olympus" },
        code: "BAD_REQUEST",
        path: "timezone",
        says: "not an IANA time zone",
      },
      {
        input: { orchestrationId, cron: "0 9 * * *", input: null },
        code: "BAD_REQUEST",
        path: "input",
        says: "must not be null",
      },
      {
        input: { orchestrationId: "orc_missing", cron: "0 9 * * *" },
        code: "NOT_FOUND",
        path: "orchestrationId",
        says: "",
      },
    ];
    for (const { input, code, path, says } of cases) {
      const refused = await errorOf(trpc.schedule.create.mutate(input));
      expect(refused.code).toBe(code);
      expect(refused.issues[0]?.path).toBe(path);
      expect(refused.message).toContain(says);
    }
    expect(await countRows("schedules", "tenant_id = ?", tenant.id)).toBe(0);
  });

  it("refuses a create past maxSchedules with FORBIDDEN naming it", async () => {
    const { trpc, tenant, orchestrationId } = await tenantWithOrchestration("schedule-quota");
    await env.DB.prepare("update tenants set plan = ? where id = ?")
      .bind(JSON.stringify({ maxSchedules: 1 }), tenant.id)
      .run();
    const first = await trpc.schedule.create.mutate({ orchestrationId, cron: "0 9 * * *" });
    made.push({ trpc, id: first.id });
    const refused = await errorOf(trpc.schedule.create.mutate({ orchestrationId, cron: "0 10 * * *" }));
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toContain("maxSchedules: 1");
    expect(await countRows("schedules", "tenant_id = ?", tenant.id)).toBe(1);
  });

  it("another team's schedule is NOT_FOUND", async () => {
    const owner = await tenantWithOrchestration("schedule-owner");
    const stranger = await newTenant("schedule-stranger");
    const schedule = await owner.trpc.schedule.create.mutate({
      orchestrationId: owner.orchestrationId,
      cron: "0 9 * * *",
    });
    made.push({ trpc: owner.trpc, id: schedule.id });
    for (const call of [
      stranger.trpc.schedule.get.query({ id: schedule.id }),
      stranger.trpc.schedule.pause.mutate({ id: schedule.id }),
      stranger.trpc.schedule.update.mutate({ id: schedule.id, cron: "0 10 * * *" }),
      stranger.trpc.schedule.delete.mutate({ id: schedule.id }),
    ]) {
      expect(await errorOf(call)).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "id" }] });
    }
    expect((await owner.trpc.schedule.get.query({ id: schedule.id })).status).toBe("active");
  });
});

describe("firing schedules", () => {
  it("starts one execution for a due minute when the handler runs twice in a row", async () => {
    const { trpc, tenant, schedule, dueAt } = await everyMinute("fire-twice");
    await fireDueSchedules(env, dueAt + 5_000);
    await fireDueSchedules(env, dueAt + 7_000);
    const runs = await executionsOf(tenant.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      created_by: `schedule:${schedule.id}`,
      idempotency_key: `schedule:${schedule.id}:${new Date(dueAt).toISOString()}`,
    });
    expect(await nextRunAt(schedule.id)).toBe(dueAt + MINUTE_MS);
    const got = await trpc.schedule.get.query({ id: schedule.id });
    expect(got.lastRuns).toEqual([
      expect.objectContaining({ minute: new Date(dueAt).toISOString(), executionId: runs[0]?.id }),
    ]);
    expect(
      (await trpc.orchestrationManagement.getExecutionStatus.query({ executionId: runs[0]?.id ?? "" })).input,
    ).toEqual({ from: "cron" });
  });

  it("starts one execution for a due minute when two handlers run at once", async () => {
    const { tenant, schedule, dueAt } = await everyMinute("fire-concurrent");
    await Promise.all([fireDueSchedules(env, dueAt + 1_000), fireDueSchedules(env, dueAt + 1_000)]);
    expect(await executionsOf(tenant.id)).toHaveLength(1);
    expect(await countRows("schedule_runs", "schedule_id = ?", schedule.id)).toBe(1);
    // The next minute is another run.
    await fireDueSchedules(env, dueAt + MINUTE_MS + 1_000);
    expect(await executionsOf(tenant.id)).toHaveLength(2);
  });

  it("after an hour down, runs only the latest missed minute, then carries on", async () => {
    const { tenant, schedule, dueAt } = await everyMinute("fire-missed");
    const late = dueAt + 60 * MINUTE_MS + 20_000;
    await fireDueSchedules(env, late);
    const [run] = await rowsOf("schedule_runs", "schedule_id = ?", schedule.id);
    expect(run?.minute).toBe(dueAt + 60 * MINUTE_MS);
    expect(await executionsOf(tenant.id)).toHaveLength(1);
    expect(await nextRunAt(schedule.id)).toBe(dueAt + 61 * MINUTE_MS);
  });

  it("a claim left by a crashed tick is started later, once, with the same idempotency key", async () => {
    const { tenant, schedule, dueAt } = await everyMinute("fire-crash");
    // A tick claimed the minute and died before starting it: the claim has no outcome.
    await env.DB.prepare(
      "insert into schedule_runs (schedule_id, tenant_id, minute, claimed_at) values (?, ?, ?, ?)",
    )
      .bind(schedule.id, tenant.id, dueAt, dueAt + 1_000)
      .run();
    // A fresh claim may be a tick still at work: left alone.
    await fireDueSchedules(env, dueAt + 2_000);
    expect(await executionsOf(tenant.id)).toHaveLength(0);
    // A stale one is started, and only once.
    await env.DB.prepare("update schedule_runs set claimed_at = ? where schedule_id = ?")
      .bind(dueAt - STALE_CLAIM_MS - 1, schedule.id)
      .run();
    await fireDueSchedules(env, dueAt + 30_000);
    await fireDueSchedules(env, dueAt + 40_000);
    const runs = await executionsOf(tenant.id);
    expect(runs).toHaveLength(1);
    // Had the crashed tick started it after all, the retry finds that execution by its key.
    await env.DB.prepare("update schedule_runs set execution_id = null, claimed_at = ? where schedule_id = ?")
      .bind(dueAt - STALE_CLAIM_MS - 1, schedule.id)
      .run();
    await env.DB.prepare("update schedules set next_run_at = ? where id = ?").bind(dueAt, schedule.id).run();
    await fireDueSchedules(env, dueAt + 50_000);
    expect(await executionsOf(tenant.id)).toEqual(runs);
    const [claim] = await rowsOf("schedule_runs", "schedule_id = ?", schedule.id);
    expect(claim?.execution_id).toBe(runs[0]?.id);
    // A tick that settled the minute but stopped before moving the schedule on: the next one moves it.
    await env.DB.prepare("update schedules set next_run_at = ? where id = ?").bind(dueAt, schedule.id).run();
    await fireDueSchedules(env, dueAt + 55_000);
    expect(await executionsOf(tenant.id)).toEqual(runs);
    expect(await nextRunAt(schedule.id)).toBe(dueAt + MINUTE_MS);
  });

  it("a paused schedule starts nothing; resumed, it runs from the next minute", async () => {
    const { trpc, tenant, schedule, dueAt } = await everyMinute("fire-paused");
    const paused = await trpc.schedule.pause.mutate({ id: schedule.id });
    expect(paused).toMatchObject({ status: "paused", nextRuns: [] });
    await fireDueSchedules(env, dueAt + 5_000);
    await fireDueSchedules(env, dueAt + 3 * MINUTE_MS);
    expect(await executionsOf(tenant.id)).toHaveLength(0);
    const resumed = await trpc.schedule.resume.mutate({ id: schedule.id });
    expect(resumed.status).toBe("active");
    expect(resumed.nextRuns).toHaveLength(5);
  });

  it("a schedule whose orchestration was deleted fails with the reason and starts nothing", async () => {
    const { trpc, tenant, orchestrationId, schedule, dueAt } = await everyMinute("fire-orphan");
    await trpc.orchestrationManagement.delete.mutate({ orchestrationId });
    await fireDueSchedules(env, dueAt + 5_000);
    expect(await executionsOf(tenant.id)).toHaveLength(0);
    const failed = await trpc.schedule.get.query({ id: schedule.id });
    expect(failed).toMatchObject({ status: "failed", nextRuns: [] });
    expect(failed.statusReason).toContain("was deleted");
    expect(await errorOf(trpc.schedule.resume.mutate({ id: schedule.id }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("update moves the next run to the new cron", async () => {
    const { trpc, schedule } = await everyMinute("fire-update");
    const updated = await trpc.schedule.update.mutate({
      id: schedule.id,
      cron: "0 12 * * *",
      timezone: "Asia/Tokyo",
    });
    expect(updated).toMatchObject({ cron: "0 12 * * *", timezone: "Asia/Tokyo" });
    expect(new Date(updated.nextRuns[0] ?? "").getUTCHours()).toBe(3);
    expect(await nextRunAt(schedule.id)).toBe(Date.parse(updated.nextRuns[0] ?? ""));
    const refused = await errorOf(trpc.schedule.update.mutate({ id: schedule.id, cron: "0 0 0 * * *" }));
    expect(refused).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "cron" }] });
    expect((await trpc.schedule.get.query({ id: schedule.id })).cron).toBe("0 12 * * *");
  });

  it("the Worker's scheduled handler fires due schedules", async () => {
    const { tenant, schedule } = await everyMinute("fire-handler");
    // As if the minute had come: the schedule is due now.
    await env.DB.prepare("update schedules set next_run_at = ? where id = ?")
      .bind(Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS, schedule.id)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await executionsOf(tenant.id)).toHaveLength(1);
  });
});
