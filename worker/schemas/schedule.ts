// What the `schedule` router accepts: a cron schedule of an orchestration. The cron expression and the
// time zone are checked with croner where the schedule is stored (worker/schedules/cron.ts).
// Shared by the API and the dashboard: no runtime imports beyond zod.
import { z } from "zod";
import { idSchema, jsonSize, jsonValue, strictObject } from "./common";
import { EXECUTION_INPUT_MAX_BYTES } from "./execution";
import { pageFields } from "./page";

const cronField = z
  .string('must be a cron expression such as "0 9 * * 1-5"')
  .trim()
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters");
const timezoneField = z
  .string('must be an IANA time zone such as "Europe/Berlin"')
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters");
const inputField = jsonValue
  .refine((value) => value !== null, "must not be null; use {} for no input")
  .refine(
    (value) => jsonSize(value) <= EXECUTION_INPUT_MAX_BYTES,
    `must be at most ${EXECUTION_INPUT_MAX_BYTES} bytes of JSON`,
  );

export const scheduleCreateSchema = strictObject({
  orchestrationId: idSchema,
  /** Standard 5 fields: minute hour day-of-month month day-of-week. */
  cron: cronField,
  /** The zone the cron is read in; UTC when left out. */
  timezone: timezoneField.optional(),
  /** The input every run starts with. */
  input: inputField.optional().default({}),
});

export const scheduleRefSchema = strictObject({ id: idSchema });

export const scheduleListSchema = strictObject({
  orchestrationId: idSchema.optional(),
  ...pageFields,
}).nullish();

export const scheduleUpdateSchema = strictObject({
  id: idSchema,
  cron: cronField.optional(),
  timezone: timezoneField.optional(),
  input: inputField.optional(),
});
