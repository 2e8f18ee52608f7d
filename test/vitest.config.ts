// Tests run inside the Workers runtime with the real bindings from wrangler.toml (D1, Durable Objects,
// Worker Loader); the setup file applies migrations/ to the test D1 before any test.
import { createServer } from "node:net";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "..");

/** A port the OS reports free right now (listen on 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export default defineConfig(async () => {
  // The fake OpenAI-compatible server (test/helpers/fake-openai-server.ts) starts in globalSetup, which
  // runs after this config is evaluated, yet the Worker's OPENAI_BASE_URL binding must name its port now:
  // so the port is reserved here and handed to the setup through `provide`.
  const fakeOpenAiPort = await freePort();
  // The same for @dwmkerr/mock-llm (test/helpers/mock-llm-server.ts), a third-party mock server.
  const mockLlmPort = await freePort();
  // The webhook receiver (test/helpers/webhook-receiver.ts) deliveries are POSTed to.
  const webhookReceiverPort = await freePort();
  return {
    root,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
            OPENAI_BASE_URL: `http://127.0.0.1:${fakeOpenAiPort}/v1`,
            OPENAI_API_KEY: "test-key",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      exclude: ["test/e2e/**", "test/node/**"],
      globalSetup: [
        "test/helpers/fake-openai-server.ts",
        "test/helpers/mock-llm-server.ts",
        "test/helpers/webhook-receiver.ts",
      ],
      provide: { fakeOpenAiPort, mockLlmPort, webhookReceiverPort },
      setupFiles: ["test/helpers/apply-migrations.ts"],
    },
  };
});
