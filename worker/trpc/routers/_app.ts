// The whole API: one router per noun. Clients import `AppRouter` for end-to-end types.
import { router } from "../init";
import { agentRouter } from "./agent";
import { apiKeyRouter } from "./api-key";
import { authRouter } from "./auth";
import { orchestrationRouter } from "./orchestration";
import { providerRouter } from "./provider";
import { roleRouter } from "./role";

export const appRouter = router({
  auth: authRouter,
  apiKey: apiKeyRouter,
  role: roleRouter,
  orchestrationManagement: orchestrationRouter,
  agent: agentRouter,
  provider: providerRouter,
});

export type AppRouter = typeof appRouter;
