// The Worker's front door (worker/http/edge.ts): bodies over 2 MB answer 413 before anything parses
// them, tRPC batches are capped, cross-origin and non-JSON mutations are refused, every response carries
// the security headers, and /health tells nothing about why D1 failed.
/// <reference types="vite/client" />

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import headersFile from "../../web/public/_headers?raw";
import { app } from "../../worker/app";
import { DEFAULT_LIMITS } from "../../worker/limits";
import {
  BASE_URL,
  errorOf,
  makeClient,
  newTenant,
  PASSWORD,
  uniqueEmail,
  uniqueIp,
  workerFetch,
} from "../helpers/client";
import { countRows, sha256Hex } from "../helpers/db";

const MB = 1024 * 1024;

afterEach(() => {
  vi.restoreAllMocks();
});

interface EdgeBody {
  error: { message: string; data: { code: string; httpStatus: number } };
}

/** A login body of about `bytes` bytes: a valid email, the rest in the password. */
function loginBody(email: string, bytes: number): string {
  return JSON.stringify({ email, password: "x".repeat(bytes) });
}

/** The same bytes as a stream, so the request has no Content-Length (chunked on the wire). */
function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const chunk = 64 * 1024;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

async function loginTouched(email: string, ip: string): Promise<number> {
  return (
    (await countRows("rate_limits", "bucket = ?", `login-ip:${ip}`)) +
    (await countRows("login_backoff", "email_hash = ?", await sha256Hex(`login:${email}`)))
  );
}

describe("request bodies", () => {
  it("answers an unauthenticated 3 MB auth.login body with 413 before parsing it, writing nothing", async () => {
    const email = uniqueEmail("huge");
    const ip = uniqueIp();
    const body = loginBody(email, 3 * MB);
    const response = await workerFetch(`${BASE_URL}/trpc/auth.login`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": String(body.length),
        "cf-connecting-ip": ip,
      },
      body,
    });

    expect(response.status).toBe(413);
    const answer = (await response.json()) as EdgeBody;
    expect(answer.error.data).toMatchObject({ code: "PAYLOAD_TOO_LARGE", httpStatus: 413 });
    expect(answer.error.message).toBe("the request body is over the 2 MB limit; send less");
    expect(await loginTouched(email, ip)).toBe(0);
  });

  it("counts a chunked body without Content-Length and stops it at 2 MB", async () => {
    const email = uniqueEmail("chunked");
    const ip = uniqueIp();
    const request = new Request(`${BASE_URL}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": ip },
      body: streamOf(loginBody(email, 3 * MB)),
    });
    expect(request.headers.has("content-length")).toBe(false);

    const response = await workerFetch(request);

    expect(response.status).toBe(413);
    expect(((await response.json()) as EdgeBody).error.data.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await loginTouched(email, ip)).toBe(0);
  });

  it("lets a chunked body under the limit through to tRPC, which reads it", async () => {
    const { email } = await newTenant("streamed");
    const response = await workerFetch(
      new Request(`${BASE_URL}/trpc/auth.login`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": uniqueIp() },
        body: streamOf(JSON.stringify({ email, password: PASSWORD })),
      }),
    );
    expect(response.status).toBe(200);
  });

  it("parses a body just under 2 MB (the field is then refused for its own length)", async () => {
    const response = await workerFetch(`${BASE_URL}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": uniqueIp() },
      body: loginBody(uniqueEmail("large"), 2 * MB - 200),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as EdgeBody).error.message).toContain("password: must be at most 256");
  });
});

describe("tRPC batches", () => {
  const batchOf = (calls: number) =>
    `${BASE_URL}/trpc/${Array.from({ length: calls }, () => "auth.me").join(",")}?batch=1`;

  it(`answers a batch of ${DEFAULT_LIMITS.maxBatchSize} calls`, async () => {
    const { trpc } = await newTenant("batcher");
    const response = await workerFetch(batchOf(DEFAULT_LIMITS.maxBatchSize), {
      headers: { cookie: trpc.jar.cookie ?? "" },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as unknown[]).length).toBe(DEFAULT_LIMITS.maxBatchSize);
  });

  it("refuses a bigger batch with BAD_REQUEST naming the cap, running none of its calls", async () => {
    const size = DEFAULT_LIMITS.maxBatchSize + 1;
    const response = await workerFetch(batchOf(size));
    expect(response.status).toBe(400);
    const answer = (await response.json()) as EdgeBody;
    expect(answer.error.data.code).toBe("BAD_REQUEST");
    expect(answer.error.message).toBe(
      `a batch may hold at most ${DEFAULT_LIMITS.maxBatchSize} calls, this one has ${size}; send smaller batches`,
    );
  });

  it("refuses a batch of mutations over the cap before any of them runs", async () => {
    const emails = Array.from({ length: DEFAULT_LIMITS.maxBatchSize + 5 }, () => uniqueEmail("batched"));
    const input = Object.fromEntries(
      emails.map((email, i) => [i, { tenantName: `Batched ${i}`, email, password: PASSWORD }]),
    );
    const response = await workerFetch(
      `${BASE_URL}/trpc/${emails.map(() => "auth.signup").join(",")}?batch=1`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": uniqueIp() },
        body: JSON.stringify(input),
      },
    );
    expect(response.status).toBe(400);
    for (const email of emails) expect(await countRows("users", "email = ?", email)).toBe(0);
  });
});

describe("cross-site requests", () => {
  const signupRequest = (headers: Record<string, string>, body?: Uint8Array) => {
    const email = uniqueEmail("csrf");
    return {
      email,
      response: workerFetch(`${BASE_URL}/trpc/auth.signup`, {
        method: "POST",
        headers: { "cf-connecting-ip": uniqueIp(), ...headers },
        body: body ?? JSON.stringify({ tenantName: "Forged", email, password: PASSWORD }),
      }),
    };
  };

  it.each(["https://evil.example", "http://localhost:8787", "null"])(
    "refuses a mutation sent with Origin %s with 403, writing nothing",
    async (origin) => {
      const { email, response } = signupRequest({ "content-type": "application/json", origin });
      const answer = await response;
      expect(answer.status).toBe(403);
      const body = (await answer.json()) as EdgeBody;
      expect(body.error.data.code).toBe("FORBIDDEN");
      expect(body.error.message).toBe(
        `requests from ${origin} are not accepted; call the API from its own origin`,
      );
      expect(await countRows("users", "email = ?", email)).toBe(0);
    },
  );

  it("accepts a mutation from its own origin, and one with no Origin (a server-side client)", async () => {
    const origins: Record<string, string>[] = [{ origin: BASE_URL }, {}];
    for (const headers of origins) {
      const { email, response } = signupRequest({ "content-type": "application/json", ...headers });
      expect((await response).status).toBe(200);
      expect(await countRows("users", "email = ?", email)).toBe(1);
    }
  });

  it.each([
    { type: "text/plain", sent: '"text/plain"' },
    { type: "application/x-www-form-urlencoded", sent: '"application/x-www-form-urlencoded"' },
    { type: "multipart/form-data; boundary=x", sent: '"multipart/form-data"' },
    { type: "application/octet-stream", sent: '"application/octet-stream"' },
    { type: "", sent: "no content-type" },
  ])("refuses a mutation whose body is sent as $sent with 415, writing nothing", async ({ type, sent }) => {
    const email = uniqueEmail("typed");
    // Bytes, not a string: a string body would be given text/plain by fetch itself.
    const bytes = new TextEncoder().encode(
      JSON.stringify({ tenantName: "Typed", email, password: PASSWORD }),
    );
    const { response } = signupRequest(type ? { "content-type": type } : {}, bytes);
    const answer = await response;
    expect(answer.status).toBe(415);
    const body = (await answer.json()) as EdgeBody;
    expect(body.error.data.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(body.error.message).toBe(`send the body as application/json, not ${sent}`);
    expect(await countRows("users", "email = ?", email)).toBe(0);
  });

  it("lets a mutation without input through: no body, so no content-type (the client's logout)", async () => {
    const { trpc } = await newTenant("no-input");
    expect(await trpc.auth.logout.mutate()).toEqual({ loggedOut: true });
    expect((await errorOf(trpc.auth.me.query())).code).toBe("UNAUTHORIZED");
  });

  it("accepts application/json with a charset", async () => {
    const { response } = signupRequest({ "content-type": "Application/JSON; charset=utf-8" });
    expect((await response).status).toBe(200);
  });

  it("leaves queries alone: a GET from another origin is answered as usual", async () => {
    const { trpc } = await newTenant("reader");
    const response = await workerFetch(`${BASE_URL}/trpc/auth.me`, {
      headers: { origin: "https://elsewhere.example", cookie: trpc.jar.cookie ?? "" },
    });
    expect(response.status).toBe(200);
  });

  it("the tRPC client sends its mutations as application/json, so it keeps working", async () => {
    const trpc = makeClient({ headers: { "cf-connecting-ip": uniqueIp(), origin: BASE_URL } });
    const account = await trpc.auth.signup.mutate({
      tenantName: "Client",
      email: uniqueEmail("client"),
      password: PASSWORD,
    });
    expect((await trpc.auth.me.query()).user?.id).toBe(account.user.id);
  });
});

describe("security headers", () => {
  const csp = () => headersFile.match(/Content-Security-Policy: (.+)/)?.[1]?.trim();

  it.each([
    ["GET", "/health"],
    ["GET", "/trpc/auth.me"],
    ["GET", "/schema/orchestration.json"],
    ["GET", "/meta-api.d.ts"],
    ["GET", "/"],
    ["POST", "/trpc/auth.logout"],
  ])("are on the Worker's answer to %s %s", async (method, path) => {
    const response = await workerFetch(`${BASE_URL}${path}`, {
      method,
      headers: method === "POST" ? { "content-type": "text/plain" } : {},
      body: method === "POST" ? "{}" : undefined,
    });
    await response.arrayBuffer();

    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain("unsafe-eval");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });

  it("are the ones web/public/_headers gives the static assets", async () => {
    const response = await workerFetch(`${BASE_URL}/health`);
    expect(csp()).toBeTruthy();
    expect(response.headers.get("content-security-policy")).toBe(csp());
    expect(headersFile).toContain("X-Content-Type-Options: nosniff");
    expect(headersFile).toContain("Referrer-Policy: strict-origin-when-cross-origin");
    expect(headersFile).toContain("X-Frame-Options: DENY");
  });
});

describe("/health", () => {
  it("answers ok with D1's latency", async () => {
    const response = await workerFetch(`${BASE_URL}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, d1: { ok: true } });
  });

  it("answers 503 { ok: false } when D1 fails, with the error only in the log", async () => {
    const secret = `D1_ERROR: no such table: internal_${crypto.randomUUID()}`;
    const failing = {
      prepare: () => ({
        first: () => Promise.reject(new Error(secret)),
      }),
    } as unknown as D1Database;
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);

    const response = await app.fetch(
      new Request(`${BASE_URL}/health`),
      { ...env, DB: failing },
      createExecutionContext(),
    );

    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ ok: false });
    expect(text).not.toContain("D1_ERROR");
    expect(String(logged.mock.calls.flat())).toContain(secret);
  });
});
