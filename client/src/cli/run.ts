// `troupe run <orchestration>`: start a run, show its progress per step, end with its final status and
// an exit code that says how it went (0 completed, 1 failed or cancelled, 2 a usage error).
import { createTroupeClient } from "../client.ts";
import { run as runOrchestration } from "../run.ts";
import type { Budget, ExecutionStatus } from "../types.ts";
import { connection } from "./config.ts";
import { wholeNumber } from "./definitions.ts";
import { oneLine, runSummary } from "./format.ts";
import {
  type Cli,
  EXIT,
  out,
  parse,
  parseJson,
  positionals,
  printJson,
  readJsonFile,
  UsageError,
} from "./io.ts";
import { plainProgress, terminalProgress } from "./progress.ts";

export const RUN_HELP = `Usage: troupe run <orchestration> [--input FILE | --input-json JSON] [options]

Starts the orchestration (by name or id) and follows it to its end: on a terminal a live block with a
spinner per running step, its state, tokens and cost; otherwise one line per step change. Then the final
status. A step waiting for approval is shown as waiting (approve it in the dashboard).

Options:
  --input FILE          the run's input, a JSON file ("-" reads standard input)
  --input-json JSON     the run's input inline, e.g. '{"topic":"edge"}'
  --max-tokens N        this run's token budget (the smaller of it and the orchestration's wins)
  --max-cost-usd X      this run's budget in US dollars
  --idempotency-key K   a repeated key answers the run it started instead of starting another
  --version N           run this version of the definition
  --json                print only the final status as JSON (progress lines go to stderr)
  -h, --help            this help

Exit codes: 0 completed, 1 failed or cancelled (or the API refused), 2 usage error, 130 interrupted
(the run goes on; cancel it with troupe executions cancel <id>).`;

function inputOf(values: { input?: string; "input-json"?: string }): unknown {
  if (values.input !== undefined && values["input-json"] !== undefined)
    throw new UsageError("give --input or --input-json, not both", "run");
  if (values.input !== undefined) return readJsonFile(values.input);
  if (values["input-json"] !== undefined) return parseJson(values["input-json"], "--input-json");
  return {};
}

function budgetOf(values: { "max-tokens"?: string; "max-cost-usd"?: string }): Budget | undefined {
  const budget: Budget = {};
  if (values["max-tokens"] !== undefined)
    budget.maxTokens = wholeNumber(values["max-tokens"], "--max-tokens");
  if (values["max-cost-usd"] !== undefined) {
    const cost = Number(values["max-cost-usd"]);
    if (!Number.isFinite(cost) || cost <= 0)
      throw new UsageError("--max-cost-usd must be a number of US dollars above 0", "run");
    budget.maxCostUsd = cost;
  }
  return Object.keys(budget).length > 0 ? budget : undefined;
}

export async function run(args: string[], cli: Cli): Promise<number> {
  const { values, positionals: names } = parse(
    args,
    {
      input: { type: "string" },
      "input-json": { type: "string" },
      "max-tokens": { type: "string" },
      "max-cost-usd": { type: "string" },
      "idempotency-key": { type: "string" },
      version: { type: "string" },
      json: { type: "boolean" },
    },
    "run",
  );
  if (values.help) {
    out(cli, RUN_HELP);
    return EXIT.ok;
  }
  const [orchestration = ""] = positionals(names, ["orchestration"], "run");
  const input = inputOf(values);
  const budget = budgetOf(values);
  const version = values.version === undefined ? undefined : wholeNumber(values.version, "--version");
  const trpc = createTroupeClient(connection(cli));
  const json = values.json ?? false;
  const progress =
    // A terminal that reports no rows (some embedded ones) gets the plain lines too.
    cli.stdout.isTTY && cli.stdout.rows !== 0 && !json
      ? terminalProgress(cli.stdout)
      : plainProgress((line) => (json ? cli.stderr : cli.stdout).write(`${line}\n`));
  let executionId: string | undefined;
  let final: ExecutionStatus;
  try {
    final = await runOrchestration(trpc, orchestration, input, {
      ...(budget ? { budget } : {}),
      ...(values["idempotency-key"] ? { idempotencyKey: values["idempotency-key"] } : {}),
      ...(version ? { version } : {}),
      signal: cli.interrupted,
      onStatus: (status) => {
        if (executionId === undefined && !json)
          (cli.stdout.isTTY ? cli.stderr : cli.stdout).write(`Started ${status.id}\n`);
        executionId = status.id;
        progress.onStatus(status);
      },
      onStep: (change) => progress.onStep(change),
    });
  } catch (error) {
    progress.stop();
    if (cli.interrupted.aborted && executionId) {
      cli.stderr.write(
        `Stopped watching; ${executionId} goes on. Cancel it with: troupe executions cancel ${executionId}\n`,
      );
      return EXIT.interrupted;
    }
    throw error;
  }
  progress.stop();
  if (json) printJson(cli, final);
  else {
    out(cli, runSummary(final));
    if (final.error) out(cli, `error: ${oneLine(final.error, 2000)}`);
    else if (final.output !== null) out(cli, `output: ${oneLine(JSON.stringify(final.output), 2000)}`);
  }
  return final.status === "completed" ? EXIT.ok : EXIT.failed;
}
