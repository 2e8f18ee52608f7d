// The one data-access entry for authenticated work: every store is bound to the actor's tenant.

import type { Limits } from "../limits";
import type { ModelEnv } from "../models/gateway";
import { tenantLimits, tenantName } from "./accounts";
import { AgentRunLog } from "./agent-runs";
import { ApiKeyStore } from "./api-keys";
import type { Actor, Db } from "./client";
import { ExecutionIndex } from "./executions";
import { OrchestrationStore } from "./orchestrations";
import { type PageRequest, pageSize } from "./paging";
import { RoleStore } from "./roles";
import { type TenantFacts, teamHasWebhooks } from "./tenant-facts";

export class TenantData {
  readonly roles: RoleStore;
  readonly orchestrations: OrchestrationStore;
  readonly apiKeys: ApiKeyStore;
  readonly executions: ExecutionIndex;
  readonly agentRuns: AgentRunLog;

  constructor(
    readonly db: Db,
    readonly actor: Actor,
    modelEnv: ModelEnv,
    /** Already known (read with the caller's session or key): then never read again. */
    known?: TenantFacts,
  ) {
    if (known) {
      this.limitsRead = Promise.resolve(known.limits);
      this.webhooksRead = Promise.resolve(known.webhooks);
    }
    const limits = () => this.limits();
    this.roles = new RoleStore(db, actor, modelEnv, limits);
    this.orchestrations = new OrchestrationStore(db, actor, this.roles, limits);
    this.apiKeys = new ApiKeyStore(db, actor, limits);
    this.executions = new ExecutionIndex(db, actor);
    this.agentRuns = new AgentRunLog(db, actor.tenantId);
  }

  private limitsRead: Promise<Limits> | undefined;
  private webhooksRead: Promise<boolean> | undefined;

  /** Whether the team has an enabled webhook (as the caller's lookup found it, or read now). */
  webhooksEnabled(): Promise<boolean> {
    this.webhooksRead ??= teamHasWebhooks(this.db, this.actor.tenantId);
    return this.webhooksRead;
  }

  /** The tenant's limits (its plan over the defaults), read once per request. */
  limits(): Promise<Limits> {
    this.limitsRead ??= tenantLimits(this.db, this.actor.tenantId);
    return this.limitsRead;
  }

  /** A list's page: the limit asked for (at most the tenant's maxPageSize) or its default, and the cursor. */
  async page(input: { limit?: number; cursor?: string } | null | undefined): Promise<PageRequest> {
    return { limit: pageSize(input?.limit, await this.limits()), cursor: input?.cursor };
  }

  tenantName(): Promise<string | undefined> {
    return tenantName(this.db, this.actor.tenantId);
  }
}
