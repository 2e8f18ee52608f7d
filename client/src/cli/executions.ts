// `troupe executions ...`: list (filtered by orchestration and status), get, cancel, resume, and logs
// (every step instance with its attempts: model, tokens, cost, error, output — the stepLogs of
// getExecutionStatus, which is the API's step log).
import { createTroupeClient, type TroupeClient } from "../client.ts";
import { type ExecutionStatus, type RunStatus, TERMINAL_STATUSES } from "../types.ts";
import { connection } from "./config.ts";
import {
  date,
  duration,
  oneLine,
  runSummary,
  stepLabel,
  stepSpending,
  stepState,
  tokens,
  usd,
} from "./format.ts";
import { type Cli, EXIT, out, parse, positionals, printJson, table, UsageError } from "./io.ts";

const STATUSES: readonly RunStatus[] = ["pending", "running", ...TERMINAL_STATUSES];

export const EXECUTIONS_HELP = `Usage: troupe executions <command>

Commands:
  list [--orchestration NAME] [--status S] [--limit N] [--json]
                        newest first (status: ${STATUSES.join(", ")}); --limit defaults to 50
  get <id> [--json]     the status, with one line per step
  cancel <id>           cancels a pending or running execution (running steps are stopped)
  resume <id>           continues a failed or cancelled execution from what failed; completed outputs stay
  logs <id> [--json]    every step instance with its attempts: model, tokens, cost, error, output

Options:
  --json        machine-readable output
  -h, --help    this help`;

function listRow(item: {
  id: string;
  status: string;
  orchestrationName: string;
  orchestrationVersion: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}) {
  const ms =
    item.startedAt && item.finishedAt ? Date.parse(item.finishedAt) - Date.parse(item.startedAt) : null;
  return [
    item.id,
    item.status,
    `${item.orchestrationName} v${item.orchestrationVersion}`,
    date(item.createdAt),
    duration(ms),
  ];
}

async function list(trpc: TroupeClient, values: Record<string, string | boolean | undefined>, cli: Cli) {
  const status = values.status as RunStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status))
    throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`, "executions");
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError("--limit must be a whole number, at least 1", "executions");
  // The filter takes an id; a name is looked up first.
  const name = values.orchestration as string | undefined;
  const orchestrationId = name
    ? (await trpc.orchestrationManagement.get.query({ nameOrId: name })).id
    : undefined;
  const items: Awaited<ReturnType<typeof trpc.orchestrationManagement.listExecutions.query>>["items"] = [];
  let cursor: string | undefined;
  do {
    const page = await trpc.orchestrationManagement.listExecutions.query({
      limit: Math.min(200, limit - items.length),
      ...(orchestrationId ? { orchestrationId } : {}),
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < limit);
  if (values.json) printJson(cli, items);
  else table(cli, ["id", "status", "orchestration", "created", "duration"], items.map(listRow));
}

function printStatus(cli: Cli, status: ExecutionStatus) {
  out(cli, runSummary(status));
  out(cli, `orchestration: ${status.orchestrationName} (version ${status.orchestrationVersion})`);
  out(
    cli,
    `created: ${date(status.createdAt)}${status.finishedAt ? ` · finished: ${date(status.finishedAt)}` : ""}`,
  );
  if (status.error) out(cli, `error: ${oneLine(status.error, 2000)}`);
  out(cli);
  for (const step of status.stepLogs)
    out(cli, `  ${stepLabel(step)}: ${stepState(step)}${stepSpending(step)}`);
}

function printLogs(cli: Cli, status: ExecutionStatus) {
  out(cli, runSummary(status));
  for (const step of status.stepLogs) {
    out(cli);
    out(
      cli,
      `${stepLabel(step).trim()} (${step.stepType}${step.roleName ? `, role ${step.roleName}` : ""}): ${stepState(step)}`,
    );
    for (const attempt of step.attempts) {
      const parts = [`attempt ${attempt.attempt}: ${attempt.status}`];
      if (attempt.durationMs !== null) parts.push(duration(attempt.durationMs));
      if (attempt.model) parts.push(attempt.model);
      if (attempt.tokensIn !== null || attempt.tokensOut !== null)
        parts.push(
          `${tokens((attempt.tokensIn ?? 0) + (attempt.tokensOut ?? 0))} (${attempt.tokensIn ?? 0} in, ${attempt.tokensOut ?? 0} out)`,
        );
      if (attempt.costUsd !== null) parts.push(usd(attempt.costUsd));
      out(cli, `  ${parts.join(" · ")}`);
      if (attempt.error) out(cli, `    error: ${oneLine(attempt.error, 2000)}`);
      if (attempt.output !== null) out(cli, `    output: ${oneLine(JSON.stringify(attempt.output), 500)}`);
    }
    if (step.attempts.length === 0 && step.output !== null)
      out(cli, `  output: ${oneLine(JSON.stringify(step.output), 500)}`);
  }
}

export async function executions(args: string[], cli: Cli): Promise<number> {
  const { values, positionals: all } = parse(
    args,
    {
      json: { type: "boolean" },
      orchestration: { type: "string" },
      status: { type: "string" },
      limit: { type: "string" },
    },
    "executions",
  );
  const [command, ...ids] = all;
  if (values.help || command === undefined || command === "help") {
    out(cli, EXECUTIONS_HELP);
    return EXIT.ok;
  }
  const trpc = () => createTroupeClient(connection(cli));
  const one = () => positionals(ids, ["id"], "executions")[0] ?? "";
  switch (command) {
    case "list":
      positionals(ids, [], "executions");
      await list(trpc(), values, cli);
      return EXIT.ok;
    case "get":
    case "logs": {
      const executionId = one();
      const status = await trpc().orchestrationManagement.getExecutionStatus.query({ executionId });
      if (values.json) printJson(cli, command === "logs" ? status.stepLogs : status);
      else if (command === "logs") printLogs(cli, status);
      else printStatus(cli, status);
      return EXIT.ok;
    }
    case "cancel":
    case "resume": {
      const executionId = one();
      const procedure = trpc().orchestrationManagement[command];
      const answer = await procedure.mutate({ executionId });
      if (values.json) printJson(cli, answer);
      else printStatus(cli, answer);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown command "executions ${command}"`, "executions");
  }
}
