// Inputs of the agent-code procedures: run a piece of code as a role, list past runs.
import { z } from "zod";
import { MAX_CODE_BYTES, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from "../agent-code/limits";
import { idSchema, strictObject } from "./common";
import { pageFields } from "./page";
import { roleName } from "./role";

export const runCodeSchema = strictObject({
  roleName: roleName.optional(),
  roleId: idSchema.optional(),
  code: z
    .string()
    .min(1, "must not be empty")
    .refine((code) => new TextEncoder().encode(code).byteLength <= MAX_CODE_BYTES, {
      message: `must be at most ${MAX_CODE_BYTES} bytes`,
    }),
  timeoutMs: z
    .int("must be a whole number of milliseconds")
    .min(MIN_TIMEOUT_MS, `must be at least ${MIN_TIMEOUT_MS} ms`)
    .max(MAX_TIMEOUT_MS, `must be at most ${MAX_TIMEOUT_MS} ms`)
    .optional(),
}).superRefine((input, ctx) => {
  if ((input.roleName === undefined) === (input.roleId === undefined)) {
    ctx.addIssue({ code: "custom", path: ["roleName"], message: "give exactly one of roleName and roleId" });
  }
});

export const agentRunsSchema = strictObject({ executionId: idSchema.optional(), ...pageFields }).nullish();
