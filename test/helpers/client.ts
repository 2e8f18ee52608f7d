// A real tRPC client (the same package users install) talking to the Worker in-process, with a tiny
// cookie jar so a signed-in session behaves as in a browser. Each call to `newTenant` is a fresh tenant,
// so no test depends on another's data.

import { exports } from "cloudflare:workers";
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import type { AppRouter } from "../../worker/trpc/routers/_app";
import { FetchEventSource } from "./event-source";

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
  const headers = (): Record<string, string> => ({
    ...options.headers,
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    ...(jar.cookie ? { cookie: jar.cookie } : {}),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // Subscriptions arrive as Server-Sent Events, as in the dashboard.
        true: httpSubscriptionLink({
          url: `${BASE_URL}/trpc`,
          EventSource: FetchEventSource,
          eventSourceOptions: () => ({ headers: headers() }),
        }),
        false: httpLink({
          url: `${BASE_URL}/trpc`,
          headers,
          fetch: async (url, init) => {
            const response = await workerFetch(url, init as RequestInit);
            const setCookie = response.headers.get("set-cookie");
            if (setCookie) jar.cookie = setCookie.split(";")[0];
            return response;
          },
        }),
      }),
    ],
  });
  // The tRPC client is a Proxy that answers every property with a procedure path, so `Object.assign`
  // would hide the jar behind it; a wrapping Proxy hands out the jar itself.
  return new Proxy(client, {
    get: (target, property, receiver) => (property === "jar" ? jar : Reflect.get(target, property, receiver)),
  }) as typeof client & { jar: typeof jar };
}
export type TestClient = ReturnType<typeof makeClient>;

/** The session token a client's cookie jar holds (64 hex characters), or "" when signed out. */
export function sessionTokenOf(client: { jar: { cookie?: string } }): string {
  const match = /^troupe_session=([0-9a-f]{64})$/.exec(client.jar.cookie ?? "");
  return match?.[1] ?? "";
}

let counter = 0;
export function uniqueEmail(label = "user"): string {
  counter += 1;
  return `${label}-${crypto.randomUUID().slice(0, 8)}-${counter}@example.com`;
}

export const PASSWORD = "correct horse battery staple";

let ipCounter = crypto.getRandomValues(new Uint16Array(1))[0] ?? 0;
/** A client address no other test uses, so per-IP rate limits do not leak between tests. */
export function uniqueIp(): string {
  ipCounter = (ipCounter + 1) % 65_536;
  return `198.18.${ipCounter >> 8}.${ipCounter & 255}`;
}

/** POSTs `input` to a tRPC mutation as a plain JSON request, e.g. to a non-localhost origin. */
export function postTrpc(
  url: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return workerFetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
  });
}

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
