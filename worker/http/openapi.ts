// GET /openapi.json: an OpenAPI 3.1 description of the API as it is on the wire (tRPC v11 over HTTP, no
// transformer), generated from the router and the same zod schemas the procedures validate with, so it
// cannot drift from them. Built once per isolate; only `servers` follows the request's origin.
import type { AnyProcedure } from "@trpc/server";
import type { ZodType } from "zod";
import { DEFAULT_LIMITS } from "../limits";
import { SESSION_COOKIE } from "../trpc/cookies";
import type { ProcedureMeta } from "../trpc/init";
import { appRouter } from "../trpc/routers/_app";
import { ERROR_RESPONSES, httpPaths, json, TRPC_ERROR_SCHEMA } from "./openapi-http";
import { acceptsNoInput, type JsonSchema, SchemaComponents } from "./openapi-json-schema";

type Operation = JsonSchema;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const DESCRIPTION = `Troupe's API is tRPC v11 over plain HTTP with JSON; any HTTP client can call it.

- A **query** is \`GET /trpc/<procedure>?input=<URL-encoded JSON>\` (no \`input\` when it takes none);
  POST is refused with 405.
- A **mutation** is \`POST /trpc/<procedure>\` with the input as an \`application/json\` body (no body when it
  takes none); GET is refused with 405.
- A **subscription** is \`GET /trpc/<procedure>?input=...\` answered with Server-Sent Events.
- Success is \`{ "result": { "data": <output> } }\`; a failure is \`{ "error": { "message", "code",
  "data": { "code", "httpStatus", "path", "issues": [{ "path", "message" }] } } }\` with the HTTP status
  of \`data.httpStatus\`; \`issues\` names each field that was refused and why.
- Authenticate with an API key, \`Authorization: Bearer <key>\` (create one in the dashboard under API
  keys); each operation says the scope it needs (\`admin\` holds them all). A few operations need a
  signed-in session (the \`${SESSION_COOKIE}\` cookie the dashboard holds) and refuse API keys.
- Several calls may share one request (\`/trpc/a,b?batch=1\`, input keyed by index: \`{"0":...,"1":...}\`),
  at most ${DEFAULT_LIMITS.maxBatchSize} per batch; request bodies are at most
  ${DEFAULT_LIMITS.maxRequestBodyBytes / 1024 / 1024} MB.`;

/** Who may call a procedure, from its `.meta({ access })`; none means public (sign-up, login, logout). */
function accessOf(procedure: AnyProcedure): ProcedureMeta["access"] | "public" {
  return (procedure._def.meta as ProcedureMeta | undefined)?.access ?? "public";
}

function securityFor(access: ProcedureMeta["access"] | "public"): { security: unknown[]; note: string } {
  switch (access) {
    case "public":
      return { security: [], note: "No authentication." };
    case "session":
      return { security: [{ session: [] }], note: "Needs a signed-in session; API keys are refused." };
    case "any":
      return {
        security: [{ apiKey: [] }, { session: [] }],
        note: "Any API key (whatever its scopes) or a signed-in session.",
      };
    default:
      return {
        security: [{ apiKey: [access] }, { session: [] }],
        note: `An API key with the "${access}" scope (or "admin"), or a signed-in session.`,
      };
  }
}

/** The procedure's input as one schema: tRPC merges several `.input()` objects into one. */
function inputOf(procedure: AnyProcedure, path: string, components: SchemaComponents) {
  const parsers = procedure._def.inputs as ZodType[];
  if (parsers.length === 0) return { schema: undefined, required: false };
  const schemas = parsers.map((parser, i) => components.add(parser, `${path}.input${i || ""}`, "input"));
  const schema = schemas.length === 1 ? (schemas[0] as JsonSchema) : { allOf: schemas };
  return { schema, required: !parsers.every(acceptsNoInput) };
}

function outputOf(procedure: AnyProcedure, path: string, components: SchemaComponents): JsonSchema {
  const output = (procedure._def as { output?: ZodType }).output;
  if (output) return components.add(output, `${path}.output`, "output");
  return { description: "The procedure's result (its exact type is AppRouter's in TypeScript)." };
}

function operationFor(path: string, procedure: AnyProcedure, components: SchemaComponents): Operation {
  const type = procedure._def.type;
  const access = accessOf(procedure);
  const { security, note } = securityFor(access);
  const input = inputOf(procedure, path, components);
  const data = outputOf(procedure, path, components);
  const inputParameter = input.schema
    ? [{ name: "input", in: "query", required: input.required, content: json(input.schema) }]
    : [];
  const common = {
    operationId: path,
    tags: [path.split(".")[0]],
    summary: `${type} ${path}`,
    security,
    "x-troupe-access": access,
    "x-trpc-type": type,
  };
  if (type === "subscription") {
    return {
      ...common,
      description: `${note}\n\nServer-Sent Events: each \`data:\` line is one JSON value; an \`event: connected\` opens the stream, \`event: return\` ends it, \`event: serialized-error\` carries an error (the TrpcError shape). Close the connection after \`event: return\`: a plain EventSource would reconnect.`,
      parameters: inputParameter,
      responses: {
        "200": { description: "The event stream.", content: { "text/event-stream": { schema: data } } },
        ...ERROR_RESPONSES,
      },
    };
  }
  const responses = {
    "200": {
      description: "The result.",
      content: json({
        type: "object",
        required: ["result"],
        properties: { result: { type: "object", required: ["data"], properties: { data } } },
      }),
    },
    ...ERROR_RESPONSES,
  };
  if (type === "query") {
    return {
      ...common,
      description: `${note} Send as GET; POST is refused (405).`,
      parameters: inputParameter,
      responses,
    };
  }
  return {
    ...common,
    description: `${note} Send as POST with a JSON body; GET is refused (405).`,
    ...(input.schema ? { requestBody: { required: input.required, content: json(input.schema) } } : {}),
    responses,
  };
}

function buildDocument(): JsonSchema {
  const components = new SchemaComponents();
  const paths: Record<string, Record<string, Operation>> = {};
  // tRPC keeps a flat "a.b" → procedure map beside the nested record; its type is the nested one.
  const flat = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;
  const procedures = Object.entries(flat);
  for (const [path, procedure] of procedures.sort(([a], [b]) => a.localeCompare(b))) {
    const method = procedure._def.type === "mutation" ? "post" : "get";
    paths[`/trpc/${path}`] = { [method]: operationFor(path, procedure, components) };
  }
  const tags = [...new Set(procedures.map(([path]) => path.split(".")[0] as string))].sort();
  return {
    openapi: "3.1.1",
    info: { title: "Troupe API", version: "1", description: DESCRIPTION },
    tags: [
      ...tags.map((name) => ({ name, description: `The ${name} procedures.` })),
      { name: "http", description: "Plain HTTP endpoints outside tRPC." },
    ],
    paths: { ...paths, ...httpPaths() },
    components: {
      schemas: { ...components.schemas, TrpcError: TRPC_ERROR_SCHEMA },
      responses: {
        Error: {
          description:
            "tRPC's error shape. 429 carries Retry-After (seconds); 405 means the wrong method for the procedure's type.",
          headers: {
            "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait (on 429)." },
          },
          content: json(ref("TrpcError")),
        },
      },
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key: Authorization: Bearer <key>." },
        session: {
          type: "apiKey",
          in: "cookie",
          name: SESSION_COOKIE,
          description: "The dashboard's session.",
        },
      },
    },
  };
}

let document: JsonSchema | undefined;

/** The document for a deployment reached at `origin`; the rest is built once per isolate. */
export function openApiDocument(origin: string): JsonSchema {
  document ??= buildDocument();
  return { ...document, servers: [{ url: origin }] };
}
