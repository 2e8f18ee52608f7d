// The whole API: one router per noun. Clients import `AppRouter` for end-to-end types.
import { router } from "../init";
import { agentRouter } from "./agent";
import { apiKeyRouter } from "./api-key";
import { authRouter } from "./auth";
import { executionRouter } from "./execution";
import { orchestrationRouter } from "./orchestration";
import { providerRouter } from "./provider";
import { roleRouter } from "./role";
import { scheduleRouter } from "./schedule";
import { tenantRouter } from "./tenant";
import { triggerRouter } from "./trigger";
import { usageRouter } from "./usage";
import { webhookRouter } from "./webhook";

export const appRouter = router({
  auth: authRouter,
  apiKey: apiKeyRouter,
  role: roleRouter,
  orchestrationManagement: orchestrationRouter,
  agent: agentRouter,
  provider: providerRouter,
  execution: executionRouter,
  tenant: tenantRouter,
  usage: usageRouter,
  webhook: webhookRouter,
  trigger: triggerRouter,
  schedule: scheduleRouter,
});

export type AppRouter = typeof appRouter;
