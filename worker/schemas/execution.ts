// Inputs of the execution procedures (execute, status, cancel, resume, rerun, approve, list).
import { z } from "zod";
import { RUN_STATUSES } from "../../durable-objects/engine/status";
import { idSchema, jsonSize, jsonValue, strictObject } from "./common";
import { budgetSchema } from "./orchestration";

export const EXECUTION_INPUT_MAX_BYTES = 256_000;

/** listExecutions' cursor: "<createdAt ms>:<id>" of the last item of the previous page, as returned. */
export const EXECUTION_CURSOR = /^\d{1,16}:[A-Za-z0-9_]{1,64}$/;

export const executeSchema = strictObject({
  orchestrationId: idSchema.max(200),
  /** Runs this version of the definition instead of the current one. */
  version: z.int("must be a whole number").min(1, "must be at least 1").optional(),
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
  /** This run's budget; where the orchestration has one too, the smaller wins per field. */
  budget: budgetSchema.optional(),
});

export const executionRefSchema = strictObject({ executionId: idSchema });

/** cancelAll: every live execution of the team; `reason` is recorded as each one's cancel reason. */
export const cancelAllSchema = strictObject({
  reason: z.string().trim().min(1, "must not be empty").max(500, "must be at most 500 characters").optional(),
})
  .nullish()
  .transform((value) => value ?? {});

export const APPROVAL_COMMENT_MAX_CHARS = 10_000;
export const APPROVAL_DATA_MAX_BYTES = 64_000;

export const approveSchema = strictObject({
  executionId: idSchema,
  stepName: z
    .string()
    .trim()
    .min(1, "must name the approval step")
    .max(100, "must be at most 100 characters"),
  /** Which instance, when the step waits in several places (inside a forEach): its stepLogs[].id. */
  instanceId: z
    .string()
    .regex(/^\d+(\.\d+\.\d+)*$/, 'must be a step instance id from stepLogs[].id, such as "2.0.1"')
    .max(200)
    .optional(),
  approved: z.boolean({ error: "must be true (approve) or false (reject)" }),
  comment: z
    .string()
    .max(APPROVAL_COMMENT_MAX_CHARS, `must be at most ${APPROVAL_COMMENT_MAX_CHARS} characters`)
    .optional(),
  data: jsonValue
    .optional()
    .refine(
      (value) => value === undefined || jsonSize(value) <= APPROVAL_DATA_MAX_BYTES,
      `must be at most ${APPROVAL_DATA_MAX_BYTES} bytes of JSON`,
    ),
});

export const listExecutionsSchema = strictObject({
  orchestrationId: idSchema.optional(),
  /** Only the child executions this execution's orchestration steps started. */
  parentExecutionId: idSchema.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.int().min(1, "must be at least 1").max(200, "must be at most 200").default(50),
  // A cursor this API did not hand out would otherwise be ignored and page 1 returned again, forever.
  cursor: z.string().regex(EXECUTION_CURSOR, "must be a nextCursor returned by listExecutions").optional(),
})
  .nullish()
  .transform((value) => value ?? { limit: 50 });
