// Input of usage.get: a time range (ISO dates or times; `to` is exclusive) and how to group it.
import { z } from "zod";
import { strictObject } from "./common";

const DAY_MS = 24 * 60 * 60 * 1000;
/** A report spans at most this long. */
export const USAGE_RANGE_MAX_DAYS = 366;
export const USAGE_DEFAULT_DAYS = 30;

const instant = z
  .string()
  .trim()
  .max(40, "must be at most 40 characters")
  .refine((text) => /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text)), {
    message: 'must be an ISO date or time, such as "2026-12-01" or "2026-12-01T09:00:00Z"',
  })
  .transform((text) => new Date(text));

export const usageQuerySchema = strictObject({
  /** Start of the range (inclusive); default: `USAGE_DEFAULT_DAYS` days before `to`. */
  from: instant.optional(),
  /** End of the range (exclusive); default: now. */
  to: instant.optional(),
  groupBy: z.enum(["day", "orchestration", "model"], {
    error: 'must be "day", "orchestration" or "model"',
  }),
}).superRefine((query, ctx) => {
  if (!query.from || !query.to) return;
  if (query.from.getTime() >= query.to.getTime())
    ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  else if (query.to.getTime() - query.from.getTime() > USAGE_RANGE_MAX_DAYS * DAY_MS)
    ctx.addIssue({
      code: "custom",
      path: ["to"],
      message: `must be at most ${USAGE_RANGE_MAX_DAYS} days after from`,
    });
});

/** The range asked for, with its defaults filled in. */
export function usageRange(query: { from?: Date; to?: Date }, now: number): { from: Date; to: Date } {
  const to = query.to ?? new Date(now);
  const from = query.from ?? new Date(to.getTime() - USAGE_DEFAULT_DAYS * DAY_MS);
  return { from, to };
}
