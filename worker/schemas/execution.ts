// Inputs of the execution procedures (execute, status, cancel, list).
import { z } from "zod";
import { idSchema, jsonSize, jsonValue, strictObject } from "./common";

export const EXECUTION_INPUT_MAX_BYTES = 256_000;

/** listExecutions' cursor: "<createdAt ms>:<id>" of the last item of the previous page, as returned. */
export const EXECUTION_CURSOR = /^\d{1,16}:[A-Za-z0-9_]{1,64}$/;

export const executeSchema = strictObject({
  orchestrationId: idSchema.max(200),
  input: jsonValue
    .optional()
    .default({})
    .refine(
      (value) => jsonSize(value) <= EXECUTION_INPUT_MAX_BYTES,
      `must be at most ${EXECUTION_INPUT_MAX_BYTES} bytes of JSON`,
    ),
  idempotencyKey: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(200, "must be at most 200 characters")
    .optional(),
});

export const executionRefSchema = strictObject({ executionId: idSchema });

export const listExecutionsSchema = strictObject({
  orchestrationId: idSchema.optional(),
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]).optional(),
  limit: z.int().min(1, "must be at least 1").max(200, "must be at most 200").default(50),
  // A cursor this API did not hand out would otherwise be ignored and page 1 returned again, forever.
  cursor: z.string().regex(EXECUTION_CURSOR, "must be a nextCursor returned by listExecutions").optional(),
})
  .nullish()
  .transform((value) => value ?? { limit: 50 });
