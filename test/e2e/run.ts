// End-to-end tests of the dashboard in real headless Chromium against the running platform: starts a
// fake OpenAI-compatible model server and `wrangler dev` (fresh state, free port), runs the journeys in
// order, saves a screenshot of each page to test/artifacts/, and stops everything it started.
// Run with `npm run test:e2e` (which builds web/ first).

import { startWranglerDev } from "../helpers/wrangler-dev.ts";
import { launchBrowser } from "./browser.ts";
import { Journey } from "./harness.ts";
import { logOutAndIn, signUp } from "./journeys/accounts.ts";
import { apiKeys } from "./journeys/api-keys.ts";
import { apiReference } from "./journeys/api-reference.ts";
import { agentConsole } from "./journeys/console.ts";
import type { E2E } from "./journeys/context.ts";
import { approveWaitingStep, rerunRun, resumeFailedRun, subOrchestration } from "./journeys/control-flow.ts";
import { cancelSlowRun, listExecutions, runPipeline } from "./journeys/executions.ts";
import { orchestrations } from "./journeys/orchestrations.ts";
import { phone } from "./journeys/phone.ts";
import { providers } from "./journeys/providers.ts";
import { roles } from "./journeys/roles.ts";
import { triggers } from "./journeys/triggers.ts";
import { usage } from "./journeys/usage.ts";
import { webhooks } from "./journeys/webhooks.ts";
import { startModelServer } from "./model-server.ts";

const JOURNEYS = [
  signUp,
  roles,
  orchestrations,
  runPipeline,
  cancelSlowRun,
  listExecutions,
  agentConsole,
  apiKeys,
  approveWaitingStep,
  resumeFailedRun,
  rerunRun,
  subOrchestration,
  providers,
  usage,
  apiReference,
  triggers,
  webhooks,
  phone,
  logOutAndIn,
];

async function main(): Promise<void> {
  const started = performance.now();
  const models = await startModelServer();
  const server = await startWranglerDev({
    config: "wrangler.toml",
    label: "e2e",
    vars: { OPENAI_BASE_URL: models.url, OPENAI_API_KEY: "e2e-key" },
  }).catch(async (error: unknown) => {
    await models.stop();
    throw error;
  });
  console.log(`wrangler dev (pid ${server.pid}) at ${server.url}; fake models at ${models.url}`);
  const browser = await launchBrowser(server.url);
  const journey = new Journey(browser.page);
  const suffix = Date.now().toString(36);
  const e2e: E2E = {
    page: browser.page,
    browser,
    journey,
    baseUrl: server.url,
    models,
    account: {
      team: "Acme Robotics",
      email: `ada-${suffix}@example.com`,
      password: "a long enough password",
    },
    ids: {},
  };
  let failure: unknown;
  try {
    for (const run of JOURNEYS) await run(e2e);
  } catch (error) {
    failure = error;
    await browser.shot("failure").catch(() => undefined);
  } finally {
    await browser.close();
    await server.stop();
    await models.stop();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `\n${journey.results.length} steps passed in ${seconds} s; ${browser.shots.length} screenshots in test/artifacts/`,
  );
  if (failure) {
    console.error(`\nE2E FAILED: ${failure instanceof Error ? failure.message : String(failure)}`);
    if (!(failure instanceof Error && failure.message.startsWith("step"))) console.error(server.log());
    process.exitCode = 1;
  }
  // The closing line CI reads: steps that passed, and the one that failed if any.
  console.log(`e2e: ${journey.results.length} passed, ${failure ? 1 : 0} failed`);
}

await main();
