// The `troupe` command line: picks the command, runs it, and turns what went wrong into a message and
// an exit code (2 for usage errors, 1 for API refusals and failed runs). No process.exit here: the bin
// sets the exit code, tests call main() or run the bin.
import { apiErrorOf, describeApiError } from "../errors.ts";
import { ORCHESTRATIONS_HELP, orchestrations, ROLES_HELP, roles } from "./definitions.ts";
import { EXECUTIONS_HELP, executions } from "./executions.ts";
import { type Cli, EXIT, out, UsageError } from "./io.ts";
import { LOGIN_HELP, LOGOUT_HELP, login, logout } from "./login.ts";
import { RUN_HELP, run } from "./run.ts";

export const HELP = `Usage: troupe <command> [options]

Drive Troupe from a terminal: keep roles and orchestrations in JSON files, run them, follow executions.

Commands:
  login [--url URL] [--key KEY]     check an API key and store it (config: $XDG_CONFIG_HOME/troupe)
  logout                            forget the stored key
  roles list|get|apply              roles (agents); apply -f role.json creates or updates by name
  orchestrations list|get|apply|export
                                    workflows; export writes what apply takes
  run <orchestration> [--input F]   start a run, show live progress per step, exit 0 if it completed
  executions list|get|cancel|resume|logs
                                    runs and their step logs

Environment: TROUPE_URL and TROUPE_API_KEY override the stored config.
Exit codes: 0 success, 1 failed run or API error, 2 usage error (bad flags, missing file, not logged in).
Run \`troupe <command> --help\` for a command's options.`;

const COMMANDS: Record<string, (args: string[], cli: Cli) => number | Promise<number>> = {
  login,
  logout,
  roles,
  role: roles,
  orchestrations,
  orchestration: orchestrations,
  run,
  executions,
  execution: executions,
};

const HELPS: Record<string, string> = {
  login: LOGIN_HELP,
  logout: LOGOUT_HELP,
  roles: ROLES_HELP,
  orchestrations: ORCHESTRATIONS_HELP,
  run: RUN_HELP,
  executions: EXECUTIONS_HELP,
};

export async function main(argv: string[], cli: Cli): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    const topic = command === "help" ? args[0] : undefined;
    out(cli, (topic && HELPS[topic]) || HELP);
    return EXIT.ok;
  }
  if (command === "--version" || command === "-v") {
    out(cli, "troupe 0.1.0");
    return EXIT.ok;
  }
  const handler = COMMANDS[command];
  try {
    if (!handler) throw new UsageError(`unknown command "${command}"`);
    return await handler(args, cli);
  } catch (error) {
    return report(error, cli, handler ? command : undefined);
  }
}

function report(error: unknown, cli: Cli, command: string | undefined): number {
  if (error instanceof UsageError) {
    const topic = error.help ?? command;
    const more = topic ? `troupe ${topic} --help` : "troupe --help";
    cli.stderr.write(`troupe: ${error.message}\nRun \`${more}\` for usage.\n`);
    return EXIT.usage;
  }
  const apiError = apiErrorOf(error);
  if (apiError) {
    cli.stderr.write(`troupe: ${describeApiError(apiError)}\n`);
    return EXIT.failed;
  }
  if (error instanceof TypeError && !(error.stack ?? "").includes("node:internal")) {
    // Thrown by the client for a bad URL or a malformed definition file.
    cli.stderr.write(`troupe: ${error.message}\n`);
    return EXIT.usage;
  }
  cli.stderr.write(`troupe: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failed;
}
