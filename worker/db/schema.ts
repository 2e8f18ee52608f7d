// D1 tables (drizzle). Every tenant-owned table carries tenant_id, and every query goes through the
// tenant-scoped stores in this folder. SQL migrations in migrations/ are generated from this file.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { RUN_STATUSES } from "../../durable-objects/engine/status";
import type { ApiKeyScope, PlanOverrides } from "../limits";
import { PROVIDER_KINDS, type ProviderModel } from "../schemas/provider";
import { DELIVERY_STATUSES, WEBHOOK_EVENTS, type WebhookEventType } from "../schemas/webhook";

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(cast(unixepoch('subsecond') * 1000 as integer))`);

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** The tenant's plan: limits raised (or lowered) from the defaults in worker/limits.ts; null = defaults. */
  plan: text("plan", { mode: "json" }).$type<PlanOverrides>(),
  /** Set when the team was deleted: nobody can sign in, and the cron removes its executions, then the row. */
  deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
});

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    passwordSalt: text("password_salt").notNull(),
    passwordIterations: integer("password_iterations").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_unique").on(t.email), index("users_tenant_idx").on(t.tenantId)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 of the session token; the token itself exists only in the user's cookie. */
    tokenHash: text("token_hash").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The readable start of the key (e.g. `trp_Ab12Cd`), shown in lists to tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key, hex. */
    keyHash: text("key_hash").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    /** What the key may do (read, run, write, admin); keys made before scopes existed have them all. */
    scopes: text("scopes", { mode: "json" })
      .$type<ApiKeyScope[]>()
      .notNull()
      .default(sql`'["read","run","write","admin"]'`),
    /** After this the key is refused; null = no expiry. */
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("api_keys_hash_unique").on(t.keyHash),
    uniqueIndex("api_keys_tenant_name_unique").on(t.tenantId, t.name),
  ],
);

/** Fixed-window counters for login failures, keyed by "email:<address>" or "ip:<address>". */
export const rateLimits = sqliteTable("rate_limits", {
  bucket: text("bucket").primaryKey(),
  count: integer("count").notNull(),
  windowEndsAt: integer("window_ends_at", { mode: "timestamp_ms" }).notNull(),
});

/** Consecutive failed logins per email (keyed by the SHA-256 of the address) and when the next may try. */
export const loginBackoff = sqliteTable("login_backoff", {
  emailHash: text("email_hash").primaryKey(),
  failures: integer("failures").notNull(),
  lastFailureAt: integer("last_failure_at", { mode: "timestamp_ms" }).notNull(),
  nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull(),
});

export const roles = sqliteTable(
  "roles",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** PERSISTED CONTRACT v1: RoleDefinition (worker/schemas/role.ts) as JSON. */
    definition: text("definition", { mode: "json" }).notNull(),
    tools: text("tools", { mode: "json" }).$type<string[]>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("roles_tenant_name_unique").on(t.tenantId, t.name)],
);

export const orchestrations = sqliteTable(
  "orchestrations",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull(),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull(),
    isActive: integer("is_active", { mode: "boolean" }).notNull(),
    version: integer("version").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("orchestrations_tenant_name_unique").on(t.tenantId, t.name)],
);

/** The recent versions of every orchestration (maxVersionsKept, and any a live run pinned; see orchestration-versions.ts). */
export const orchestrationVersions = sqliteTable(
  "orchestration_versions",
  {
    orchestrationId: text("orchestration_id")
      .notNull()
      .references(() => orchestrations.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    tenantId: text("tenant_id").notNull(),
    /** PERSISTED CONTRACT v1: OrchestrationDefinition (worker/schemas/orchestration.ts) as JSON. */
    definition: text("definition", { mode: "json" }).notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.orchestrationId, t.version] })],
);

/** An index of executions; each execution's Durable Object is the source of truth. */
export const executions = sqliteTable(
  "executions",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    orchestrationId: text("orchestration_id").notNull(),
    orchestrationName: text("orchestration_name").notNull(),
    orchestrationVersion: integer("orchestration_version").notNull(),
    /** Set for a run started by an `orchestration` step of another run, or by its agent code. */
    parentExecutionId: text("parent_execution_id"),
    /** 0 for a run started from outside; a run started from a run is one deeper than its parent. */
    depth: integer("depth").notNull().default(0),
    status: text("status", { enum: RUN_STATUSES }).notNull(),
    idempotencyKey: text("idempotency_key"),
    error: text("error"),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    // Usage, written when the run ends (0 while it runs): its own model calls, not its children's.
    tokensIn: integer("tokens_in").notNull().default(0),
    tokensOut: integer("tokens_out").notNull().default(0),
    costUsd: real("cost_usd").notNull().default(0),
    calls: integer("calls").notNull().default(0),
    /** PERSISTED CONTRACT v1: { [model]: { tokensIn, tokensOut, costUsd, calls } } as JSON; null while it runs. */
    usageByModel: text("usage_by_model", { mode: "json" }).$type<Record<string, ModelUsage>>(),
    /** Its end was written (the monthly budget's reservation released once: a repeat is a no-op). */
    usageSettled: integer("usage_settled", { mode: "boolean" }).notNull().default(false),
    /** What the monthly budget's ledger has counted for it so far (a resumed run adds only the difference). */
    monthSpentUsd: real("month_spent_usd").notNull().default(0),
  },
  (t) => [
    index("executions_tenant_created_idx").on(t.tenantId, t.createdAt),
    index("executions_tenant_orchestration_idx").on(t.tenantId, t.orchestrationId),
    index("executions_status_idx").on(t.status, t.updatedAt),
    index("executions_finished_idx").on(t.finishedAt),
    index("executions_tenant_parent_idx").on(t.tenantId, t.parentExecutionId),
    uniqueIndex("executions_tenant_idempotency_unique").on(t.tenantId, t.idempotencyKey),
  ],
);

export interface ModelUsage {
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  calls: number;
}

/**
 * The tenant-wide monthly budget's ledger (worker/db/usage.ts): what ended runs spent in a month (UTC,
 * "2026-12") and what running ones hold. A run reserves at start and settles when it ends.
 */
export const tenantMonthlySpend = sqliteTable(
  "tenant_monthly_spend",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    month: text("month").notNull(),
    spentUsd: real("spent_usd").notNull().default(0),
    reservedUsd: real("reserved_usd").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.month] })],
);

/** One run of agent code (agent.runCode, or a turn of a step whose role has the `meta` tool). */
export const agentRuns = sqliteTable(
  "agent_runs",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** Not a foreign key: the record outlives the role. */
    roleId: text("role_id").notNull(),
    executionId: text("execution_id"),
    stepName: text("step_name"),
    turn: integer("turn"),
    /** SHA-256 of the agent's source, hex. */
    codeHash: text("code_hash").notNull(),
    codeBytes: integer("code_bytes").notNull(),
    durationMs: integer("duration_ms").notNull(),
    /** Meta function calls the run made. */
    calls: integer("calls").notNull(),
    outcome: text("outcome", {
      enum: ["ok", "error", "syntax_error", "timeout", "limit_exceeded", "cancelled"],
    }).notNull(),
    error: text("error"),
    createdAt: createdAt(),
  },
  (t) => [
    index("agent_runs_tenant_created_idx").on(t.tenantId, t.createdAt),
    index("agent_runs_tenant_execution_idx").on(t.tenantId, t.executionId),
  ],
);

/** A tenant's own model provider. Its API key is stored only encrypted (worker/providers/key-crypto.ts). */
export const providers = sqliteTable(
  "providers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind", { enum: PROVIDER_KINDS }).notNull(),
    baseUrl: text("base_url"),
    /** AES-GCM-256 of the key, base64; the key, IV and last 4 are all null for a keyless provider. */
    apiKeyCiphertext: text("api_key_ciphertext"),
    /** The 12-byte IV of this row's ciphertext, base64 (a new one on every write of the key). */
    apiKeyIv: text("api_key_iv"),
    apiKeyLast4: text("api_key_last4"),
    /** PERSISTED CONTRACT v1: ProviderModel[] (worker/schemas/provider.ts) as JSON. */
    models: text("models", { mode: "json" }).$type<ProviderModel[]>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("providers_tenant_name_unique").on(t.tenantId, t.name)],
);

// Outbound webhooks (issue 14): a team's endpoints, each delivery of an event to one, and every attempt.
/** A team's webhook endpoint. Its signing secret is stored only encrypted (like provider keys). */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** PERSISTED CONTRACT v1: WebhookEventType[] (worker/schemas/webhook.ts) as JSON. */
    events: text("events", { mode: "json" }).$type<WebhookEventType[]>().notNull(),
    /** Only this orchestration's runs; null = every run of the team. */
    orchestrationId: text("orchestration_id"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** AES-GCM-256 of the signing secret, base64, and its 12-byte IV. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    secretIv: text("secret_iv").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("webhooks_tenant_created_idx").on(t.tenantId, t.createdAt)],
);

/** One event owed to one webhook; the id is derived from both, so a repeated hand-off is a no-op. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    eventType: text("event_type", { enum: WEBHOOK_EVENTS }).notNull(),
    executionId: text("execution_id").notNull(),
    /** The exact body POSTed (every attempt sends these bytes). */
    body: text("body").notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("webhook_deliveries_webhook_created_idx").on(t.tenantId, t.webhookId, t.createdAt)],
);

/** One POST of a delivery: what came back (status, first 1 KB) or why nothing did. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    durationMs: integer("duration_ms").notNull(),
    responseExcerpt: text("response_excerpt"),
    error: text("error"),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);

// Inbound triggers and schedules (worker/triggers/, worker/schedules/). The orchestration id is not a
// foreign key: deleting an orchestration leaves its triggers answering 404 and its schedules failed, with
// the reason, instead of vanishing silently.

/** An HTTP trigger: `POST /triggers/<token>` starts its orchestration. The token is stored hashed and sealed. */
export const triggers = sqliteTable(
  "triggers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    orchestrationId: text("orchestration_id").notNull(),
    kind: text("kind", { enum: ["http"] }).notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** SHA-256 of the URL's token, hex: how a request finds its trigger. */
    tokenHash: text("token_hash").notNull(),
    /** The token AES-GCM sealed (worker/triggers/seal.ts), so the dashboard can show the URL again. */
    tokenCiphertext: text("token_ciphertext").notNull(),
    tokenIv: text("token_iv").notNull(),
    requireSignature: integer("require_signature", { mode: "boolean" }).notNull().default(false),
    /** The HMAC signing secret, sealed; null until a signature is first required. */
    secretCiphertext: text("secret_ciphertext"),
    secretIv: text("secret_iv"),
    lastTriggeredAt: integer("last_triggered_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("triggers_token_hash_unique").on(t.tokenHash),
    index("triggers_tenant_orchestration_idx").on(t.tenantId, t.orchestrationId),
  ],
);

/** The executions a trigger started (its newest few are kept, for "last runs"). */
export const triggerRuns = sqliteTable(
  "trigger_runs",
  {
    triggerId: text("trigger_id")
      .notNull()
      .references(() => triggers.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    executionId: text("execution_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.triggerId, t.executionId] }),
    index("trigger_runs_trigger_created_idx").on(t.triggerId, t.createdAt),
  ],
);

/** A cron schedule: the Worker's scheduled handler starts its orchestration at each due minute. */
export const schedules = sqliteTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    orchestrationId: text("orchestration_id").notNull(),
    /** Standard 5-field cron, read in `timezone`. */
    cron: text("cron").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    /** PERSISTED CONTRACT v1: the execution input (any JSON value) as JSON. */
    input: text("input", { mode: "json" }).notNull(),
    status: text("status", { enum: ["active", "paused", "failed"] }).notNull(),
    /** Why a schedule failed (its orchestration was deleted), for the dashboard. */
    statusReason: text("status_reason"),
    /** The next minute it is due (ms); null while paused or failed. */
    nextRunAt: integer("next_run_at", { mode: "timestamp_ms" }),
    lastRunAt: integer("last_run_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("schedules_due_idx").on(t.status, t.nextRunAt),
    index("schedules_tenant_orchestration_idx").on(t.tenantId, t.orchestrationId),
  ],
);

/** One due minute of a schedule, claimed once (the primary key) before its execution is started. */
export const scheduleRuns = sqliteTable(
  "schedule_runs",
  {
    scheduleId: text("schedule_id")
      .notNull()
      .references(() => schedules.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** The scheduled minute (ms since the epoch, UTC). */
    minute: integer("minute", { mode: "timestamp_ms" }).notNull(),
    executionId: text("execution_id"),
    /** Why the start was refused (quota, budget, inactive orchestration); null when it started. */
    error: text("error"),
    claimedAt: integer("claimed_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.scheduleId, t.minute] })],
);
