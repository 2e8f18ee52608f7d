// A vitest globalSetup (runs in Node, not workerd): @dwmkerr/mock-llm, a third-party OpenAI-compatible
// mock server from npm, on loopback, so at least one endpoint the provider is tested against was not
// written here. Its rules: echo the last message (its default), 500 for "mock-fail-500", a 401 like
// OpenAI's for "mock-bad-key"; streams in 5-character chunks when asked to.
import type { Server } from "node:http";
import { getDefaultConfig, type Rule } from "@dwmkerr/mock-llm/dist/config.js";
import { createServer } from "@dwmkerr/mock-llm/dist/server.js";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Reserved by test/vitest.config.ts before this setup runs. */
    mockLlmPort: number;
  }
}

const HOST = "127.0.0.1";

function failingWhen(marker: string, status: number, error: Record<string, unknown>): Rule {
  return {
    path: "/v1/chat/completions",
    method: "POST",
    match: `contains(body.messages[-1].content, '${marker}')`,
    response: { status, content: JSON.stringify({ error }) },
  };
}

/** Its start-up banner lists A2A agents and MCP tools no test here uses: kept out of the test output. */
function quietly<T>(make: () => T): T {
  const log = console.log;
  console.log = () => undefined;
  try {
    return make();
  } finally {
    console.log = log;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = project.getProvidedContext().mockLlmPort;
  const defaults = getDefaultConfig();
  const config = {
    ...defaults,
    streaming: { chunkSize: 5, chunkIntervalMs: 5 },
    // Later rules win.
    rules: [
      ...defaults.rules,
      failingWhen("mock-fail-500", 500, { message: "mock upstream failure", type: "server_error" }),
      failingWhen("mock-bad-key", 401, {
        message: "Incorrect API key provided.",
        type: "invalid_request_error",
        code: "invalid_api_key",
      }),
    ],
  };
  const app = quietly(() => createServer(config, HOST, port));
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(port, HOST, () => resolve(listening)).once("error", reject);
  });
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
