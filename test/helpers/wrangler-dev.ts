// Node-side (not workerd): starts `wrangler dev` for a config on a free loopback port with a fresh
// --persist-to folder (D1 migrations applied first), and stops it by its own PID. Used by the benchmark
// and the browser tests.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = {
  ...process.env,
  PATH: `${path.join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
};

export interface DevServerOptions {
  /** wrangler.toml to run, relative to the repository root. */
  config: string;
  /** Extra `--var NAME:value` bindings. */
  vars?: Record<string, string>;
  /** Names the temporary persist folder and error messages. */
  label: string;
  startTimeoutMs?: number;
  /** More `wrangler dev` arguments (e.g. `--inspector-port` for a profile). */
  args?: string[];
}

export interface DevServer {
  url: string;
  pid: number | undefined;
  /** The last 20 kB of wrangler's output, for failure reports. */
  log(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number, label: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev (${label}) exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`wrangler dev (${label}) did not answer /health within ${timeoutMs} ms`);
}

export async function startWranglerDev(options: DevServerOptions): Promise<DevServer> {
  const config = path.join(root, options.config);
  const persist = mkdtempSync(path.join(tmpdir(), `troupe-${options.label}-`));
  const migrate = spawnSync(
    wrangler,
    ["d1", "migrations", "apply", "DB", "--local", "-c", config, "--persist-to", persist],
    { env, encoding: "utf8" },
  );
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  const port = await freePort();
  const vars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const args = ["dev", "-c", config, "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persist];
  const child = spawn(wrangler, [...args, ...vars, ...(options.args ?? [])], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    rmSync(persist, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, child, options.startTimeoutMs ?? 60_000, options.label);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- wrangler log ---\n${log}`);
  }
  return { url, pid: child.pid, log: () => log, stop };
}
