// Where the CLI keeps the API key: $XDG_CONFIG_HOME/troupe/config.json (~/.config/troupe by default,
// %APPDATA%\troupe on Windows), readable by the user only. TROUPE_URL and TROUPE_API_KEY override it.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { type Cli, UsageError } from "./io.ts";

export const DEFAULT_URL = "http://localhost:8787";

export interface StoredConfig {
  url?: string;
  apiKey?: string;
}

export interface Connection {
  url: string;
  apiKey: string;
}

export function configPath(env: NodeJS.ProcessEnv, platform = process.platform): string {
  if (platform === "win32") {
    const appData = env.APPDATA || path.win32.join(homedir(), "AppData", "Roaming");
    return path.win32.join(appData, "troupe", "config.json");
  }
  const base = env.XDG_CONFIG_HOME || path.join(homedir(), ".config");
  return path.join(base, "troupe", "config.json");
}

export function readConfig(env: NodeJS.ProcessEnv): StoredConfig {
  const file = configPath(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as StoredConfig;
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    throw new UsageError(`${file} is not valid JSON; run \`troupe login\` again or delete it`);
  }
}

/** Writes the file with mode 0600 (its folder 0700), also when it existed with a wider mode. */
export function writeConfig(env: NodeJS.ProcessEnv, config: StoredConfig): string {
  const file = configPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export function removeConfig(env: NodeJS.ProcessEnv): string | undefined {
  const file = configPath(env);
  try {
    readFileSync(file);
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  return file;
}

/** The URL to use: the environment's, else the stored one, else the local default. */
export function urlOf(env: NodeJS.ProcessEnv, stored: StoredConfig): string {
  return env.TROUPE_URL || stored.url || DEFAULT_URL;
}

/** The URL and key every command but login uses; not logged in is a usage error (exit 2). */
export function connection(cli: Cli): Connection {
  const stored = readConfig(cli.env);
  const apiKey = cli.env.TROUPE_API_KEY || stored.apiKey;
  if (!apiKey) {
    throw new UsageError("not logged in: run `troupe login` (or set TROUPE_API_KEY and TROUPE_URL)");
  }
  return { url: urlOf(cli.env, stored), apiKey };
}
