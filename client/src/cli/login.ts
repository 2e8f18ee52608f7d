// `troupe login` and `troupe logout`: check an API key with one call (auth.me) and keep it in the
// user's config file, or forget it.
import { createTroupeClient } from "../client.ts";
import { apiErrorOf, describeApiError } from "../errors.ts";
import { configPath, readConfig, removeConfig, urlOf, writeConfig } from "./config.ts";
import { type Cli, EXIT, out, parse, positionals, UsageError } from "./io.ts";

export const LOGIN_HELP = `Usage: troupe login [--url URL] [--key KEY]

Checks an API key against Troupe and stores it, with the URL, in the config file
(${"$"}XDG_CONFIG_HOME/troupe/config.json, ~/.config/troupe by default; %APPDATA%\\troupe on Windows),
readable by you only (mode 0600).

The key comes from --key, else TROUPE_API_KEY, else a hidden prompt on a terminal, else standard input
(echo "$KEY" | troupe login). Prefer the prompt or stdin: a --key shows in the process list.
Create a key in the dashboard under API keys.

Options:
  --url URL   where Troupe runs (default: TROUPE_URL, the stored URL, or http://localhost:8787)
  --key KEY   the API key
  -h, --help  this help`;

export const LOGOUT_HELP = `Usage: troupe logout

Deletes the stored config file (URL and API key). TROUPE_API_KEY, when set, still applies.`;

export async function login(args: string[], cli: Cli): Promise<number> {
  const { values, positionals: rest } = parse(
    args,
    { url: { type: "string" }, key: { type: "string" } },
    "login",
  );
  if (values.help) return help(cli, LOGIN_HELP);
  positionals(rest, [], "login");
  const url = values.url ?? urlOf(cli.env, readConfig(cli.env));
  const apiKey = (values.key ?? cli.env.TROUPE_API_KEY ?? (await readKey(cli))).trim();
  if (!apiKey)
    throw new UsageError("no API key given: pass --key, set TROUPE_API_KEY or type it when asked", "login");
  let me: Awaited<ReturnType<ReturnType<typeof createTroupeClient>["auth"]["me"]["query"]>>;
  try {
    me = await createTroupeClient({ url, apiKey }).auth.me.query();
  } catch (error) {
    const apiError = apiErrorOf(error);
    if (!apiError) throw error;
    const why = apiError.code === "UNREACHABLE" ? `could not reach ${url}` : "the API key was refused";
    cli.stderr.write(`troupe: ${why}; nothing was stored\n${describeApiError(apiError)}\n`);
    return EXIT.failed;
  }
  const file = writeConfig(cli.env, { url, apiKey });
  const key = me.apiKey ? `API key "${me.apiKey.name}"` : "a session";
  out(cli, `Logged in to ${url} as team "${me.tenant.name}" with ${key}.`);
  out(cli, `Saved to ${file}`);
  return EXIT.ok;
}

export function logout(args: string[], cli: Cli): number {
  const { values, positionals: rest } = parse(args, {}, "logout");
  if (values.help) return help(cli, LOGOUT_HELP);
  positionals(rest, [], "logout");
  const removed = removeConfig(cli.env);
  out(cli, removed ? `Logged out: removed ${removed}` : `Not logged in (no ${configPath(cli.env)}).`);
  if (cli.env.TROUPE_API_KEY) out(cli, "TROUPE_API_KEY is still set in this environment.");
  return EXIT.ok;
}

function help(cli: Cli, text: string): number {
  out(cli, text);
  return EXIT.ok;
}

/** The key from a hidden prompt on a terminal, else all of standard input. */
async function readKey(cli: Cli): Promise<string> {
  if (!cli.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of cli.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  cli.stderr.write("API key: ");
  return new Promise((resolve, reject) => {
    let typed = "";
    const stdin = cli.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      cli.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (text: string) => {
      for (const char of text) {
        if (char === "\r" || char === "\n") return done();
        if (char === "\u0003") return done(new UsageError("login cancelled"));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.on("data", onData);
  });
}
