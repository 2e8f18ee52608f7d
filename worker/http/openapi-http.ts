// The fixed parts of /openapi.json: tRPC's error shape (init.ts errorFormatter, edge.ts refusals) and the
// routes outside tRPC (health, the schemas, inbound triggers), described by hand from their handlers.
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { SIGNATURE_HEADER } from "../webhooks/signature";
import type { JsonSchema } from "./openapi-json-schema";
import { IDEMPOTENCY_HEADER } from "./triggers";

type Operation = JsonSchema;
export const json = (schema: JsonSchema) => ({ "application/json": { schema } });

export const ERROR_RESPONSES = {
  "4XX": { $ref: "#/components/responses/Error" },
  "5XX": { $ref: "#/components/responses/Error" },
};

/** `{ error: { message, code, data: { code, httpStatus, path, issues } } }`, as every tRPC failure answers. */
export const TRPC_ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["message", "code", "data"],
      properties: {
        message: { type: "string", description: "What went wrong, naming the field and the fix." },
        code: { type: "integer", description: "The JSON-RPC error number (e.g. -32600 for BAD_REQUEST)." },
        data: {
          type: "object",
          required: ["code", "httpStatus", "issues"],
          properties: {
            code: { type: "string", enum: Object.keys(TRPC_ERROR_CODES_BY_KEY) },
            httpStatus: { type: "integer" },
            path: { type: "string", description: "The procedure called (absent for refusals at the edge)." },
            issues: {
              type: "array",
              description: "Each refused field: `path` like steps[2].condition.operator, and why.",
              items: {
                type: "object",
                required: ["path", "message"],
                properties: { path: { type: "string" }, message: { type: "string" } },
              },
            },
          },
        },
      },
    },
  },
};

/** A trigger's refusal (worker/http/triggers.ts): `{ error: { code, message, field? } }`. */
const TRIGGER_ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", description: "NOT_FOUND, UNAUTHORIZED, BAD_REQUEST, TOO_MANY_REQUESTS, ..." },
        message: { type: "string" },
        field: { type: "string", description: `What was refused: "body", "${SIGNATURE_HEADER}", ...` },
      },
    },
  },
};

const triggerError = (description: string) => ({ description, content: json(TRIGGER_ERROR_SCHEMA) });

const TRIGGER_OPERATION: Operation = {
  operationId: "trigger",
  tags: ["http"],
  security: [],
  description: `Starts an execution of the trigger's orchestration with the JSON body as its input (an empty body is \`{}\`). The token in the URL (from trigger.create) is the credential. A trigger created with a secret also needs \`${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>\`. Rate limited per trigger and per team.`,
  parameters: [
    {
      name: "token",
      in: "path",
      required: true,
      schema: { type: "string", pattern: "^trg_[0-9A-Za-z]{43}$" },
    },
    {
      name: IDEMPOTENCY_HEADER,
      in: "header",
      required: false,
      description: "A repeat with the same key answers the first execution's id and starts nothing.",
      schema: { type: "string", minLength: 1, maxLength: 200 },
    },
    {
      name: SIGNATURE_HEADER,
      in: "header",
      required: false,
      description: "Required when the trigger was created with a secret.",
      schema: { type: "string" },
    },
  ],
  requestBody: { required: false, content: json({ description: "The execution's input (any JSON)." }) },
  responses: {
    "202": {
      description: "Started (or already started under this Idempotency-Key).",
      content: json({
        type: "object",
        required: ["executionId"],
        properties: { executionId: { type: "string" } },
      }),
    },
    "400": triggerError("The body is not JSON, or the input or Idempotency-Key is refused (see `field`)."),
    "401": triggerError(`A missing, stale or wrong ${SIGNATURE_HEADER}.`),
    "404": triggerError("No trigger has this token, or its orchestration was deleted."),
    "409": triggerError("The trigger is disabled."),
    "413": { $ref: "#/components/responses/Error" },
    "415": triggerError("The body is not application/json."),
    "4XX": triggerError("Any other refusal of the start (a team limit, an inactive orchestration)."),
    "429": {
      ...triggerError("Too many requests, or the team's run limits; see Retry-After."),
      headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait." } },
    },
  },
};

/** The routes outside tRPC. */
export function httpPaths(): Record<string, Record<string, Operation>> {
  const document = (operationId: string, description: string) => ({
    get: {
      operationId,
      tags: ["http"],
      description,
      security: [],
      responses: { "200": { description, content: json({ type: "object" }) } },
    },
  });
  return {
    "/health": {
      get: {
        operationId: "health",
        tags: ["http"],
        security: [],
        description: "Liveness with a D1 round trip.",
        responses: {
          "200": {
            description: "Up.",
            content: json({
              type: "object",
              properties: {
                ok: { const: true },
                d1: { type: "object", properties: { ok: { type: "boolean" }, ms: { type: "number" } } },
              },
            }),
          },
          "503": {
            description: "D1 unreachable.",
            content: json({ type: "object", properties: { ok: { const: false } } }),
          },
        },
      },
    },
    "/openapi.json": document("openapi", "This document."),
    "/schema/orchestration.json": document(
      "orchestrationJsonSchema",
      "The orchestration definition's JSON Schema (for editors).",
    ),
    "/triggers/{token}": { post: TRIGGER_OPERATION },
  };
}
