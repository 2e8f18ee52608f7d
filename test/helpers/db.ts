// Direct reads of the test D1, for asserting what was (and was not) stored. Read-only: tests change data
// only through the Worker.
import { env } from "cloudflare:workers";

/** Counts rows of `table` matching `where` (SQL with `?` placeholders bound to `params`). */
export async function countRows(table: string, where: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`select count(*) as n from ${table} where ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The rows of `table` matching `where`, every column as stored. */
export async function rowsOf(
  table: string,
  where: string,
  ...params: unknown[]
): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare(`select * from ${table} where ${where}`)
    .bind(...params)
    .all<Record<string, unknown>>();
  return results;
}

/** Every application table, and in each any column whose stored value contains `secret`. */
export async function placesStoring(secret: string): Promise<string[]> {
  const { results: tables } = await env.DB.prepare(
    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'",
  ).all<{ name: string }>();
  const found: string[] = [];
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`select * from "${name}"`).all<Record<string, unknown>>();
    for (const row of results) {
      for (const [column, value] of Object.entries(row)) {
        if (String(value).includes(secret)) found.push(`${name}.${column}`);
      }
    }
  }
  return found;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
