// A real tRPC client (the same package users install) talking to the Worker in-process, with a tiny
// cookie jar so a signed-in session behaves as in a browser. Each call to `newTenant` is a fresh tenant,
// so no test depends on another's data.

import { exports } from "cloudflare:workers";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import type { AppRouter } from "../../worker/trpc/routers/_app";

export const BASE_URL = "http://localhost";

export interface ClientOptions {
  apiKey?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

/** Sends a request to the Worker under test, as a client on the network would. */
export function workerFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(input, init));
}

export function makeClient(options: ClientOptions = {}) {
  const jar = { cookie: options.cookie };
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${BASE_URL}/trpc`,
        headers: () => ({
          ...options.headers,
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          ...(jar.cookie ? { cookie: jar.cookie } : {}),
        }),
        fetch: async (url, init) => {
          const response = await workerFetch(url, init as RequestInit);
          const setCookie = response.headers.get("set-cookie");
          if (setCookie) jar.cookie = setCookie.split(";")[0];
          return response;
        },
      }),
    ],
  });
  return Object.assign(client, { jar });
}
export type TestClient = ReturnType<typeof makeClient>;

let counter = 0;
export function uniqueEmail(label = "user"): string {
  counter += 1;
  return `${label}-${crypto.randomUUID().slice(0, 8)}-${counter}@example.com`;
}

export const PASSWORD = "correct horse battery staple";

/** Signs up a new tenant and returns a client holding its session cookie. */
export async function newTenant(label = "tenant") {
  const trpc = makeClient({
    headers: { "cf-connecting-ip": `10.0.${counter % 250}.${(counter * 7) % 250}` },
  });
  const email = uniqueEmail(label);
  const account = await trpc.auth.signup.mutate({
    tenantName: `${label} ${counter}`,
    email,
    password: PASSWORD,
  });
  return { trpc, email, ...account };
}

/** Runs `call`, expects a tRPC error, and returns its code, message and field issues. */
export async function errorOf(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) {
      const data = error.data as {
        code: string;
        httpStatus: number;
        issues: { path: string; message: string }[];
      };
      return { code: data.code, httpStatus: data.httpStatus, message: error.message, issues: data.issues };
    }
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
