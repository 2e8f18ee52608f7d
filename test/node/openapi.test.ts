// The OpenAPI document as a real deployment serves it (wrangler dev), checked against the OpenAPI 3.1
// schemas with @seriousme/openapi-schema-validator (ajv: Node only), with every $ref resolving.
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, inject, it } from "vitest";

const baseUrl = inject("devServerUrl");

async function openApiDocument(): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}/openapi.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe("/openapi.json from wrangler dev", () => {
  it("validates as OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate(await openApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("resolves every $ref, none of them outside the document", async () => {
    const document = await openApiDocument();
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]*)"/g)].map((match) => match[1] ?? "");
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => !ref.startsWith("#/components/"))).toEqual([]);
    const validator = new Validator();
    await validator.validate(document);
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it("names the server it was fetched from", async () => {
    expect((await openApiDocument()).servers).toEqual([{ url: baseUrl }]);
  });
});
