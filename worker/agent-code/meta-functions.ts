// What each meta function does, on the host: its argument schema (the API's own zod schemas) and the
// tenant-scoped store or engine call it makes. Authorization comes first: only a role holding `meta`, or
// the `meta:<scope>` the function needs, may call it; anything else is refused before the argument is read.
import { z } from "zod";
import { originFromRun } from "../../durable-objects/execution/admission";
import {
  approveStep,
  findExecution,
  rerunExecution,
  resumeExecution,
  statusOfRow,
} from "../../durable-objects/execution/operations";
import { startExecution } from "../../durable-objects/execution/start";
import { openDb } from "../db/client";
import { TenantData } from "../db/tenant-data";
import type { Env } from "../env";
import { invalid, TroupeError } from "../errors";
import { issuesOf, strictObject } from "../schemas/common";
import { approveSchema, executeSchema } from "../schemas/execution";
import {
  orchestrationFilterSchema,
  orchestrationInputSchema,
  orchestrationLookupSchema,
  orchestrationUpdateSchema,
} from "../schemas/orchestration";
import {
  allowsMetaScope,
  isMetaRole,
  META_TOOL,
  metaToolOf,
  roleFilterSchema,
  roleInputSchema,
  roleLookupSchema,
  roleUpdatesSchema,
} from "../schemas/role";
import { MAX_ARGUMENT_CHARS } from "./limits";
import { isMetaFunctionName, META_FUNCTION_SCOPES, type MetaFunctionName } from "./meta-names";

/** Who the calling sandbox acts for: fixed by the host when it bound MetaTools, never by the agent. */
export interface MetaToolsProps {
  tenantId: string;
  roleId: string;
  executionId?: string;
}

interface MetaContext {
  data: TenantData;
  env: Env;
  now: number;
  /** The execution whose step runs the code, if any: runs the code starts are that execution's children. */
  executionId?: string;
}

interface MetaFunction {
  input: z.ZodType;
  run(context: MetaContext, input: unknown): Promise<unknown>;
}

function define<Schema extends z.ZodType>(
  input: Schema,
  run: (context: MetaContext, input: z.output<Schema>) => Promise<unknown>,
): MetaFunction {
  return { input, run: (context, parsed) => run(context, parsed as z.output<Schema>) };
}

/** Agents refer to things by id or by name (the guide's `orchestrationId: "clf..."` is either). */
const reference = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters");

/** Agent code's lists answer an array: the first page, as large as the tenant's maxPageSize allows. */
async function firstPage<Filter extends object>(data: TenantData, filter: Filter | null | undefined) {
  return { ...filter, limit: (await data.limits()).maxPageSize };
}

/** Where a run the code starts comes from: inside a step, that execution (one level deeper); else nowhere. */
async function originOf({ data, env, now, executionId }: MetaContext) {
  if (executionId === undefined) return undefined;
  return originFromRun(env, data.db, data.actor, executionId, await data.limits(), now);
}

const roleIdOf = async (data: TenantData, ref: string) => (await data.roles.get(ref)).id;
const orchestrationIdOf = async (data: TenantData, ref: string) => (await data.orchestrations.get(ref)).id;

const FUNCTIONS: Record<MetaFunctionName, MetaFunction> = {
  create_role: define(roleInputSchema, ({ data }, input) => data.roles.create(input)),
  list_roles: define(
    roleFilterSchema,
    async ({ data }, input) => (await data.roles.list(await firstPage(data, input))).items,
  ),
  get_role: define(roleLookupSchema, ({ data }, input) => data.roles.get(input.nameOrId)),
  update_role: define(
    strictObject({ roleId: reference, updates: roleUpdatesSchema }),
    async ({ data }, input) => data.roles.update(await roleIdOf(data, input.roleId), input.updates),
  ),
  delete_role: define(strictObject({ roleId: reference }), async ({ data }, input) =>
    data.roles.delete(await roleIdOf(data, input.roleId)),
  ),
  create_orchestration: define(orchestrationInputSchema, ({ data }, input) =>
    data.orchestrations.create(input),
  ),
  list_orchestrations: define(
    orchestrationFilterSchema,
    async ({ data }, input) => (await data.orchestrations.list(await firstPage(data, input))).items,
  ),
  get_orchestration: define(orchestrationLookupSchema, ({ data }, input) =>
    data.orchestrations.get(input.nameOrId, input.version),
  ),
  update_orchestration: define(
    strictObject({ ...orchestrationUpdateSchema.shape, orchestrationId: reference }),
    async ({ data }, input) =>
      data.orchestrations.update(
        await orchestrationIdOf(data, input.orchestrationId),
        input.updates,
        input.expectedVersion,
      ),
  ),
  delete_orchestration: define(strictObject({ orchestrationId: reference }), async ({ data }, input) =>
    data.orchestrations.delete(await orchestrationIdOf(data, input.orchestrationId)),
  ),
  execute_orchestration: define(executeSchema, async (context, input) =>
    startExecution(context.data, context.env, input, context.now, await originOf(context)),
  ),
  get_execution_status: define(strictObject({ executionId: reference }), async ({ data, env, now }, input) =>
    statusOfRow(env, await findExecution(data, input.executionId, now)),
  ),
  approve_step: define(
    strictObject({ ...approveSchema.shape, executionId: reference }),
    async ({ data, env, now }, input) =>
      approveStep(data, env, {
        ...input,
        executionId: (await findExecution(data, input.executionId, now)).id,
      }),
  ),
  resume_execution: define(strictObject({ executionId: reference }), async ({ data, env, now }, input) =>
    resumeExecution(data, env, (await findExecution(data, input.executionId, now)).id),
  ),
  rerun_execution: define(strictObject({ executionId: reference }), async (context, input) => {
    const { data, env, now } = context;
    const row = await findExecution(data, input.executionId, now);
    return rerunExecution(data, env, row.id, now, await originOf(context));
  }),
};

/** `role:<id>`, and the execution whose step ran the code: what `createdBy` records. */
export function principalOf(props: MetaToolsProps): string {
  return `role:${props.roleId}${props.executionId ? `/execution:${props.executionId}` : ""}`;
}

async function authorize(data: TenantData, roleId: string, name: MetaFunctionName): Promise<void> {
  const role = await data.roles.getById(roleId).catch((error: unknown) => {
    if (error instanceof TroupeError && error.code === "NOT_FOUND") return undefined;
    throw error;
  });
  if (!role) {
    throw new TroupeError(
      "FORBIDDEN",
      `PERMISSION_DENIED: role ${roleId} no longer exists, so it cannot call ${name}`,
    );
  }
  const scope = META_FUNCTION_SCOPES[name];
  if (allowsMetaScope(role.tools, scope)) return;
  const needed = metaToolOf(scope);
  const held = role.tools.filter((tool) => tool.startsWith(`${META_TOOL}:`));
  const has = isMetaRole(role.tools)
    ? `holds only ${held.map((tool) => `"${tool}"`).join(", ")}, not "${needed}"`
    : `lacks the "${META_TOOL}" tool`;
  throw new TroupeError(
    "FORBIDDEN",
    `PERMISSION_DENIED: role "${role.name}" (${role.id}) ${has}, which ${name} needs; add "${needed}" (or "${META_TOOL}") to the role's tools`,
  );
}

function parseArgument(payload: unknown): unknown {
  if (typeof payload !== "string")
    throw new TroupeError("BAD_REQUEST", "the argument must arrive as JSON text");
  if (payload.length > MAX_ARGUMENT_CHARS) {
    throw new TroupeError(
      "TOO_MANY_REQUESTS",
      `the argument is ${payload.length} characters of JSON; the limit is ${MAX_ARGUMENT_CHARS}`,
    );
  }
  try {
    return JSON.parse(payload);
  } catch {
    throw new TroupeError("BAD_REQUEST", "the argument is not valid JSON");
  }
}

/** Runs one meta function for the sandbox bound to `props`; throws TroupeError for anything refused. */
export async function invokeMeta(
  env: Env,
  props: MetaToolsProps,
  name: unknown,
  payload: unknown,
  now: number,
): Promise<unknown> {
  if (!isMetaFunctionName(name))
    throw new TroupeError("NOT_FOUND", `there is no meta function ${String(name)}`);
  const actor = { tenantId: props.tenantId, principal: principalOf(props) };
  const data = new TenantData(openDb(env.DB), actor, env);
  await authorize(data, props.roleId, name);
  const fn = FUNCTIONS[name];
  const parsed = fn.input.safeParse(parseArgument(payload));
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw invalid(issues.length > 0 ? issues : [{ path: "", message: "the argument is invalid" }]);
  }
  const executionId = props.executionId ? { executionId: props.executionId } : {};
  return fn.run({ data, env, now, ...executionId }, parsed.data);
}
