// Node-side tests (not workerd): the CLI and the OpenAPI document, against one real `wrangler dev` that
// globalSetup starts (fresh state, free port) and stops by its PID. Run by `npm test` after the Workers tests.
import path from "node:path";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "../..");

export default defineConfig({
  root,
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/node/dev-server.ts"],
    // One wrangler dev serves every file: files run one after another so they do not compete for it.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
