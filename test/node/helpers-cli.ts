// Node-side helpers for the client and CLI tests: a fresh tenant with an API key made over plain HTTP
// (as a person would in the dashboard), the `troupe` bin run as a child process with its own config
// folder, and definition files written to a temporary folder.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
export const TROUPE_BIN = path.join(root, "client/bin/troupe.ts");

async function call<T>(
  url: string,
  procedure: string,
  input: unknown,
  cookie = "",
): Promise<{ data: T; cookie: string }> {
  const response = await fetch(`${url}/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as { result?: { data: T }; error?: { message: string } };
  if (!body.result) throw new Error(`${procedure}: ${response.status} ${body.error?.message ?? ""}`);
  return { data: body.result.data, cookie: response.headers.get("set-cookie")?.split(";")[0] ?? cookie };
}

/** Signs up a new tenant and creates an API key for it (all scopes). */
export async function newTenantKey(
  url: string,
  label: string,
): Promise<{ apiKey: string; tenantName: string }> {
  const tenantName = `${label} ${crypto.randomUUID().slice(0, 8)}`;
  const signup = await call(url, "auth.signup", {
    tenantName,
    email: `${label.toLowerCase().replace(/\W+/g, "-")}-${crypto.randomUUID().slice(0, 8)}@example.com`,
    password: "correct horse battery staple",
  });
  const key = await call<{ key: string }>(url, "apiKey.create", { name: `${label} key` }, signup.cookie);
  return { apiKey: key.data.key, tenantName };
}

/** A temporary folder, removed by `cleanup`; `file` writes JSON (or text) into it. */
export function tempFolder(label: string) {
  const dir = mkdtempSync(path.join(tmpdir(), `troupe-${label}-`));
  return {
    dir,
    file(name: string, content: unknown): string {
      const file = path.join(dir, name);
      writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  /** Resolves when the process exits. */
  done: Promise<CliResult>;
  /** Resolves once stdout has a line matching `pattern` (rejects if the process exits first). */
  line(pattern: RegExp): Promise<string>;
  pid: number | undefined;
}

/**
 * Starts `troupe <args>` (Node running the bin itself, as `npx troupe` does) with only the environment
 * given (plus PATH and HOME), standard input from `stdin`, never a terminal.
 */
export function startCli(args: string[], options: { env: Record<string, string>; stdin?: string }): CliRun {
  const child = spawn(process.execPath, [TROUPE_BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const found = stdout.split("\n").find((line) => waiter.pattern.test(line));
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(found);
      }
    }
  };
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    check();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(options.stdin ?? "");
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      for (const waiter of waiters.splice(0))
        waiter.reject(
          new Error(`troupe exited (${code}) before printing ${waiter.pattern}:\n${stdout}\n${stderr}`),
        );
      resolve({ code, stdout, stderr });
    });
  });
  return {
    done,
    pid: child.pid,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
      }),
  };
}

export function troupe(
  args: string[],
  options: { env: Record<string, string>; stdin?: string },
): Promise<CliResult> {
  return startCli(args, options).done;
}
