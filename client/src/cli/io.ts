// What every command shares: its streams and environment (passed in, so tests and the bin differ only
// there), usage errors (exit 2), flag parsing with node:util, JSON files, tables.
import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";

export interface Cli {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Ctrl-C: commands that wait listen to it to stop waiting. */
  interrupted: AbortSignal;
}

/** Bad flags, a missing file, not logged in: the user's to fix, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  readonly help: string | undefined;
  constructor(message: string, help?: string) {
    super(message);
    this.help = help;
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with `--help` always known, and its errors as usage errors naming the command. */
export function parse<T extends Options>(args: string[], options: T, command: string) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]}`, command);
  }
}

export function out(cli: Cli, text = ""): void {
  cli.stdout.write(`${text}\n`);
}

export function printJson(cli: Cli, value: unknown): void {
  out(cli, JSON.stringify(value, null, 2));
}

/** Reads and parses a JSON file ("-" is standard input); a missing or broken file is a usage error. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT" ? `${file}: no such file` : `${file}: ${(error as Error).message}`,
    );
  }
  return parseJson(text, file);
}

export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where}: not valid JSON (${(error as Error).message})`);
  }
}

/** Exactly `count` positional arguments, or a usage error that says which. */
export function positionals(values: string[], names: string[], command: string): string[] {
  if (values.length < names.length) throw new UsageError(`missing <${names[values.length]}>`, command);
  if (values.length > names.length)
    throw new UsageError(`unexpected argument "${values[names.length]}"`, command);
  return values;
}

/** Left-aligned columns, two spaces apart; the header in upper case. */
export function table(cli: Cli, header: string[], rows: string[][]): void {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  out(cli, line(header.map((title) => title.toUpperCase())));
  for (const row of rows) out(cli, line(row));
}
