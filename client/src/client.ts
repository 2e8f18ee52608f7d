// The typed Troupe client: tRPC over HTTP (batched) for queries and mutations, Server-Sent Events for
// subscriptions, the API key as a bearer token on both. Types come from the server's AppRouter through a
// type-only import: nothing of the Worker runs here.
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from "@trpc/client";
import { EventSource } from "eventsource";
import type { AppRouter } from "../../worker/trpc/routers/_app.ts";
import { type RunOptions, run, type WatchOptions, watchExecution } from "./run.ts";
import type { ExecutionStatus } from "./types.ts";

/** The server refuses a batch of more calls than this (worker/limits.ts maxBatchSize). */
const MAX_BATCH_CALLS = 25;

export interface TroupeClientOptions {
  /** Where Troupe runs, e.g. "https://troupe.example.com" or "http://localhost:8787" ("/trpc" may be given). */
  url: string;
  /** An API key from the dashboard's API keys page, sent as "Authorization: Bearer <key>". */
  apiKey: string;
  /** A fetch to use instead of the global one (a proxy, a test double). */
  fetch?: typeof globalThis.fetch;
}

/** Every procedure of the API, typed: `client.role.list.query({})`, `client.orchestrationManagement...`. */
export type TroupeApi = TRPCClient<AppRouter>;

/** The API plus the helpers that follow a run to its end (run.ts). */
export type TroupeClient = TroupeApi & {
  /** Starts `orchestration` (an id or a name) with `input`; resolves with its final status. */
  run(orchestration: string, input: unknown, options?: RunOptions): Promise<ExecutionStatus>;
  /** Follows an execution already started to its final status. */
  watchExecution(executionId: string, options?: WatchOptions): Promise<ExecutionStatus>;
};

/** The tRPC endpoint for a base URL: "https://host" and "https://host/trpc" both give "https://host/trpc". */
export function trpcUrl(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new TypeError(`"${url}" is not a URL; give one such as http://localhost:8787`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new TypeError(`"${url}" is not an http(s) URL`);
  return trimmed.endsWith("/trpc") ? trimmed : `${trimmed}/trpc`;
}

export function createTroupeClient(options: TroupeClientOptions): TroupeClient {
  const api = createApi(options);
  const helpers = {
    run: (orchestration: string, input: unknown, runOptions?: RunOptions) =>
      run(api, orchestration, input, runOptions),
    watchExecution: (executionId: string, watchOptions?: WatchOptions) =>
      watchExecution(api, executionId, watchOptions),
  };
  // tRPC's client is a proxy that turns every property into a procedure path: the helpers (no router
  // of the API is named like them) are answered first.
  return new Proxy(api, {
    get: (target, property, receiver) =>
      Object.hasOwn(helpers, property)
        ? helpers[property as keyof typeof helpers]
        : Reflect.get(target, property, receiver),
  }) as TroupeClient;
}

function createApi(options: TroupeClientOptions): TroupeApi {
  const url = trpcUrl(options.url);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const authorization = `Bearer ${options.apiKey}`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // Node has no EventSource; the `eventsource` package's takes a fetch, which adds the key.
        true: httpSubscriptionLink({
          url,
          EventSource,
          eventSourceOptions: {
            fetch: (input, init) =>
              fetchImpl(input, { ...init, headers: { ...init.headers, authorization } }),
          },
        }),
        false: httpBatchLink({
          url,
          maxItems: MAX_BATCH_CALLS,
          headers: { authorization },
          fetch: fetchImpl,
        }),
      }),
    ],
  });
}
