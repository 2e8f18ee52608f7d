// Paging for every list (`limit`, `cursor`), answered as `{ items, nextCursor }` like listExecutions.
// A cursor is opaque to clients: the sort key and id of the previous page's last item, as base64url JSON.
// Shared by the API and the dashboard: no runtime imports beyond zod.
import { z } from "zod";
import { strictObject } from "./common";

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** What a cursor holds: the last item's sort key (a name, a time in ms, a version) and its id. */
export type CursorKey = [key: string | number, id: string];

const CURSOR_MAX_CHARS = 1_000;
export const CURSOR_MESSAGE = "must be a nextCursor returned by the same list";

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function encodeCursor(key: CursorKey): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(key)));
}

/** The key a cursor holds, or undefined when it is not one this API handed out. */
export function decodeCursor(cursor: string): CursorKey | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const key: unknown = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes),
    );
    if (!Array.isArray(key) || key.length !== 2) return undefined;
    const [sortKey, id] = key as unknown[];
    const validKey =
      typeof sortKey === "string" || (typeof sortKey === "number" && Number.isSafeInteger(sortKey));
    return validKey && typeof id === "string" ? [sortKey, id] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `limit`: items per page (default the tenant's defaultPageSize; above its maxPageSize is refused where
 * the tenant is known). `cursor`: the previous page's nextCursor.
 */
export const pageFields = {
  limit: z.int("must be a whole number").min(1, "must be at least 1").optional(),
  cursor: z
    .string()
    .max(CURSOR_MAX_CHARS, { message: CURSOR_MESSAGE, abort: true })
    .refine((cursor) => decodeCursor(cursor) !== undefined, CURSOR_MESSAGE)
    .optional(),
};

/** A list with nothing to filter on: only the page. */
export const pageSchema = strictObject(pageFields).nullish();
