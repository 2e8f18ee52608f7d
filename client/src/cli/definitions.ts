// `troupe roles ...` and `troupe orchestrations ...`: list, get, apply (create or update by name, so a
// repository of JSON files can be the source of truth) and, for orchestrations, export.
import { writeFileSync } from "node:fs";
import { type Applied, applyOrchestration, applyRole } from "../apply.ts";
import { createTroupeClient, type TroupeClient } from "../client.ts";
import { orchestrationDefinition } from "../definitions.ts";
import type { OrchestrationInput, RoleInput } from "../types.ts";
import { connection } from "./config.ts";
import { date } from "./format.ts";
import { type Cli, EXIT, out, parse, positionals, printJson, readJsonFile, table, UsageError } from "./io.ts";

export const ROLES_HELP = `Usage: troupe roles <command>

Commands:
  list [--search TEXT] [--json]     every role, by name
  get <name> [--json]               one role (by name or id)
  apply -f role.json [--json]       create or update by name; the file holds one role or an array.
                                    Prints created / updated / unchanged per role. Fields the file
                                    leaves out keep their stored values (a role update merges).

Options:
  -f, --file FILE   the JSON file to apply ("-" reads standard input)
  --json            machine-readable output
  -h, --help        this help`;

export const ORCHESTRATIONS_HELP = `Usage: troupe orchestrations <command>

Commands:
  list [--search TEXT] [--json]        every orchestration, by name
  get <name> [--version N] [--json]    one orchestration (by name or id)
  export <name> [-o FILE]              the definition as apply takes it (stdout, or FILE)
  apply -f flow.json [--json]          create or update by name; the file holds one definition or an
                                       array. The file is the whole definition: what it leaves out
                                       goes back to its default. An unchanged definition saves no new
                                       version. export → apply round-trips as "unchanged".

Options:
  -f, --file FILE     the JSON file to apply ("-" reads standard input)
  -o, --output FILE   where export writes (default: standard output)
  --json              machine-readable output
  -h, --help          this help`;

const LIST_PAGE = 100;

/** Every page of a paged list. */
export async function allPages<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

function client(cli: Cli): TroupeClient {
  return createTroupeClient(connection(cli));
}

function help(cli: Cli, text: string): number {
  out(cli, text);
  return EXIT.ok;
}

/** The items of an apply file: one object or an array of them. */
function itemsOf(file: string): unknown[] {
  const parsed = readJsonFile(file);
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0) throw new UsageError(`${file}: the array is empty; nothing to apply`);
  items.forEach((item, i) => {
    const where = Array.isArray(parsed) ? `${file}[${i}]` : file;
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw new UsageError(`${where}: must be a JSON object`);
    const name = (item as { name?: unknown }).name;
    if (typeof name !== "string" || name.trim() === "")
      throw new UsageError(`${where}: needs a "name" (apply finds what to update by name)`);
  });
  return items;
}

/** Applies each item in turn; stops at the first the API refuses (those before it stay applied). */
async function applyAll(
  kind: Applied["kind"],
  cli: Cli,
  items: unknown[],
  json: boolean,
  apply: (item: unknown) => Promise<Applied>,
): Promise<number> {
  const results: Applied[] = [];
  for (const item of items) {
    const name = (item as { name: string }).name;
    try {
      const result = await apply(item);
      results.push(result);
      if (!json) out(cli, `${result.kind} "${result.name}": ${result.action}${versionNote(result)}`);
    } catch (error) {
      if (json) printJson(cli, results);
      cli.stderr.write(`${kind} "${name}": failed\n`);
      throw error;
    }
  }
  if (json) printJson(cli, results);
  return EXIT.ok;
}

function versionNote(result: Applied): string {
  return result.version === undefined ? "" : ` (version ${result.version})`;
}

export async function roles(args: string[], cli: Cli): Promise<number> {
  const { values, positionals: all } = parse(
    args,
    { json: { type: "boolean" }, file: { type: "string", short: "f" }, search: { type: "string" } },
    "roles",
  );
  const [command, ...names] = all;
  if (values.help || command === undefined || command === "help") return help(cli, ROLES_HELP);
  switch (command) {
    case "list": {
      positionals(names, [], "roles");
      const trpc = client(cli);
      const items = await allPages((cursor) =>
        trpc.role.list.query({
          limit: LIST_PAGE,
          cursor,
          ...(values.search ? { search: values.search } : {}),
        }),
      );
      if (values.json) printJson(cli, items);
      else
        table(
          cli,
          ["name", "model", "tools", "updated"],
          items.map((role) => [
            role.name,
            role.hyperparameters.model ?? "(default)",
            role.tools.join(",") || "-",
            date(role.updatedAt),
          ]),
        );
      return EXIT.ok;
    }
    case "get": {
      const [name = ""] = positionals(names, ["name"], "roles");
      const role = await client(cli).role.get.query({ nameOrId: name });
      printJson(cli, role);
      return EXIT.ok;
    }
    case "apply": {
      positionals(names, [], "roles");
      if (!values.file) throw new UsageError("apply needs -f <file.json>", "roles");
      const items = itemsOf(values.file);
      const trpc = client(cli);
      return applyAll("role", cli, items, values.json ?? false, (item) => applyRole(trpc, item as RoleInput));
    }
    default:
      throw new UsageError(`unknown command "roles ${command}"`, "roles");
  }
}

export async function orchestrations(args: string[], cli: Cli): Promise<number> {
  const { values, positionals: all } = parse(
    args,
    {
      json: { type: "boolean" },
      file: { type: "string", short: "f" },
      output: { type: "string", short: "o" },
      search: { type: "string" },
      version: { type: "string" },
    },
    "orchestrations",
  );
  const [command, ...names] = all;
  if (values.help || command === undefined || command === "help") return help(cli, ORCHESTRATIONS_HELP);
  switch (command) {
    case "list": {
      positionals(names, [], "orchestrations");
      const trpc = client(cli);
      const items = await allPages((cursor) =>
        trpc.orchestrationManagement.list.query({
          limit: LIST_PAGE,
          cursor,
          ...(values.search ? { search: values.search } : {}),
        }),
      );
      if (values.json) printJson(cli, items);
      else
        table(
          cli,
          ["name", "version", "steps", "active", "updated"],
          items.map((o) => [
            o.name,
            String(o.version),
            String(o.steps.length),
            o.isActive ? "yes" : "no",
            date(o.updatedAt),
          ]),
        );
      return EXIT.ok;
    }
    case "get": {
      const [name = ""] = positionals(names, ["name"], "orchestrations");
      const version = values.version === undefined ? undefined : wholeNumber(values.version, "--version");
      const found = await client(cli).orchestrationManagement.get.query({ nameOrId: name, version });
      printJson(cli, found);
      return EXIT.ok;
    }
    case "export": {
      const [name = ""] = positionals(names, ["name"], "orchestrations");
      const found = await client(cli).orchestrationManagement.get.query({ nameOrId: name });
      const text = `${JSON.stringify(orchestrationDefinition(found), null, 2)}\n`;
      if (values.output) {
        writeFileSync(values.output, text);
        cli.stderr.write(`Exported "${found.name}" (version ${found.version}) to ${values.output}\n`);
      } else cli.stdout.write(text);
      return EXIT.ok;
    }
    case "apply": {
      positionals(names, [], "orchestrations");
      if (!values.file) throw new UsageError("apply needs -f <flow.json>", "orchestrations");
      const items = itemsOf(values.file);
      const trpc = client(cli);
      return applyAll("orchestration", cli, items, values.json ?? false, (item) =>
        applyOrchestration(trpc, item as OrchestrationInput),
      );
    }
    default:
      throw new UsageError(`unknown command "orchestrations ${command}"`, "orchestrations");
  }
}

export function wholeNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`${flag} must be a whole number, at least 1`);
  return value;
}
