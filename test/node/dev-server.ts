// globalSetup for the Node-side tests: one `wrangler dev` of the real wrangler.toml, handed to the tests
// as `inject("devServerUrl")`, stopped by its own PID when they end.
import type { TestProject } from "vitest/node";
import { startWranglerDev } from "../helpers/wrangler-dev.ts";

declare module "vitest" {
  export interface ProvidedContext {
    devServerUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startWranglerDev({ config: "wrangler.toml", label: "node-tests" });
  project.provide("devServerUrl", server.url);
  return () => server.stop();
}
