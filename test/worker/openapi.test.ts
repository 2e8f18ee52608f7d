// GET /openapi.json in the Workers runtime: every procedure of the router is described with the method
// tRPC answers on, inputs are the zod schemas' own JSON Schema, and a call made exactly as the document
// says (a query's ?input=, a mutation's JSON body, a bearer API key) works. The OpenAPI 3.1 validation
// itself runs in Node (test/node/openapi.test.ts): the validator needs ajv, which workerd cannot run.
import type { AnyProcedure } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { executeSchema } from "../../worker/schemas/execution";
import type { ProcedureMeta } from "../../worker/trpc/init";
import { appRouter } from "../../worker/trpc/routers/_app";
import { BASE_URL, workerFetch } from "../helpers/client";
import { waitFor } from "../helpers/executions";
import { tenantWithApiKey } from "../helpers/fixtures";

interface Operation {
  operationId: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: {
    name: string;
    in: string;
    required: boolean;
    content?: Record<string, { schema: Schema }>;
  }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
}
interface Schema {
  type?: string;
  required?: string[];
  properties?: Record<string, unknown>;
  $ref?: string;
}
interface OpenApiDocument {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

async function openApi(): Promise<{ response: Response; document: OpenApiDocument }> {
  const response = await workerFetch(`${BASE_URL}/openapi.json`);
  return { response, document: (await response.json()) as OpenApiDocument };
}

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>);

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document for this origin, with the security headers", async () => {
    const { response, document } = await openApi();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.servers).toEqual([{ url: BASE_URL }]);
  });

  it("lists every procedure with the method tRPC answers on, its tag and the access it declares", async () => {
    const { document } = await openApi();
    expect(procedures.length).toBeGreaterThan(30);
    for (const [path, procedure] of procedures) {
      const method = procedure._def.type === "mutation" ? "post" : "get";
      const operation = document.paths[`/trpc/${path}`]?.[method];
      expect(operation, `${method.toUpperCase()} /trpc/${path}`).toBeDefined();
      expect(Object.keys(document.paths[`/trpc/${path}`] ?? {})).toEqual([method]);
      expect(operation?.operationId).toBe(path);
      expect(operation?.tags).toEqual([path.split(".")[0]]);
      const access = (procedure._def.meta as ProcedureMeta | undefined)?.access;
      if (access === undefined) expect(operation?.security).toEqual([]);
      else if (access === "session") expect(operation?.security).toEqual([{ session: [] }]);
      else if (access === "any") expect(operation?.security).toContainEqual({ apiKey: [] });
      else expect(operation?.security).toContainEqual({ apiKey: [access] });
    }
  });

  it("describes the routes outside tRPC: health, inbound triggers with their headers", async () => {
    const { document } = await openApi();
    expect(document.paths["/health"]?.get?.operationId).toBe("health");
    const trigger = document.paths["/triggers/{token}"]?.post;
    expect(trigger?.security).toEqual([]);
    expect(Object.keys(trigger?.responses ?? {})).toEqual(expect.arrayContaining(["202", "401", "404"]));
    const headers = trigger?.parameters?.filter((parameter) => parameter.in === "header").map((p) => p.name);
    expect(headers).toEqual(["Idempotency-Key", "Troupe-Signature"]);
    const tRPCPaths = Object.keys(document.paths).filter((path) => path.startsWith("/trpc/"));
    expect(tRPCPaths.length).toBe(procedures.length);
  });

  it("gives execute's body the zod input's fields and required fields", async () => {
    const { document } = await openApi();
    const execute = document.paths["/trpc/orchestrationManagement.execute"]?.post;
    const body = execute?.requestBody?.content["application/json"]?.schema;
    const expected = z.toJSONSchema(executeSchema, { io: "input", unrepresentable: "any" }) as Schema;
    expect(execute?.requestBody?.required).toBe(true);
    expect(body?.type).toBe("object");
    expect(body?.required).toEqual(["orchestrationId"]);
    expect(Object.keys(body?.properties ?? {}).sort()).toEqual(Object.keys(expected.properties ?? {}).sort());
    expect(execute?.security).toContainEqual({ apiKey: ["run"] });
  });

  it("describes queries with an ?input= parameter and subscriptions as Server-Sent Events", async () => {
    const { document } = await openApi();
    const status = document.paths["/trpc/orchestrationManagement.getExecutionStatus"]?.get;
    const input = status?.parameters?.find((parameter) => parameter.name === "input");
    expect(input).toMatchObject({ in: "query", required: true });
    expect(input?.content?.["application/json"]?.schema.required).toEqual(["executionId"]);
    const list = document.paths["/trpc/orchestrationManagement.listExecutions"]?.get;
    expect(list?.parameters?.find((parameter) => parameter.name === "input")?.required).toBe(false);
    const watch = document.paths["/trpc/orchestrationManagement.watchExecution"]?.get;
    const stream = watch?.responses["200"] as { content: object } | undefined;
    expect(Object.keys(stream?.content ?? {})).toEqual(["text/event-stream"]);
  });

  it("resolves every $ref inside the document", async () => {
    const { document } = await openApi();
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]*"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const pointer = (JSON.parse(`{${ref}}`) as { $ref: string }).$ref;
      expect(pointer.startsWith("#/"), pointer).toBe(true);
      let node: unknown = document;
      for (const part of pointer.slice(2).split("/")) node = (node as Record<string, unknown>)?.[part];
      expect(node, pointer).toBeDefined();
    }
  });

  it("describes calls that work exactly as documented: a POSTed mutation, a GET query with ?input=", async () => {
    const { trpc, apiKey } = await tenantWithApiKey("openapi");
    await trpc.role.create.mutate({ name: "Writer", basePrompt: "You write." });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Documented",
      steps: [{ name: "Write", roleName: "Writer" }],
    });
    const authorization = `Bearer ${apiKey.key}`;
    const started = await workerFetch(`${BASE_URL}/trpc/orchestrationManagement.execute`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ orchestrationId: flow.id, input: { topic: "docs" } }),
    });
    expect(started.status).toBe(200);
    const { result } = (await started.json()) as { result: { data: { id: string } } };
    const query = (executionId: string) =>
      workerFetch(
        `${BASE_URL}/trpc/orchestrationManagement.getExecutionStatus?input=${encodeURIComponent(JSON.stringify({ executionId }))}`,
        { headers: { authorization } },
      );
    const final = await waitFor(
      async () => (await (await query(result.data.id)).json()) as { result: { data: { status: string } } },
      (body) => ["completed", "failed", "cancelled"].includes(body.result.data.status),
    );
    expect(final.result.data.status).toBe("completed");
  });

  it("answers errors in the documented shape: 405 for a query POSTed, field issues for bad input", async () => {
    const { apiKey } = await tenantWithApiKey("openapi-errors");
    const authorization = `Bearer ${apiKey.key}`;
    const posted = await workerFetch(`${BASE_URL}/trpc/orchestrationManagement.getExecutionStatus`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ executionId: "x" }),
    });
    expect(posted.status).toBe(405);
    expect(await posted.json()).toMatchObject({
      error: { data: { code: "METHOD_NOT_SUPPORTED", httpStatus: 405 } },
    });
    const bad = await workerFetch(`${BASE_URL}/trpc/orchestrationManagement.execute`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ orchestrationId: "", input: {} }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: {
        code: -32600,
        data: {
          code: "BAD_REQUEST",
          httpStatus: 400,
          path: "orchestrationManagement.execute",
          issues: [{ path: "orchestrationId", message: "must not be empty" }],
        },
      },
    });
  });
});
