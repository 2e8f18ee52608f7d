// Applies migrations/ to the test D1 (idempotent: applied migrations are recorded and skipped).
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
