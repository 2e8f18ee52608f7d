// Starts the benchmark runtime (bench/runtime/wrangler.toml) with `wrangler dev` in a fresh persist
// folder on a free loopback port, and stops it by its own PID (see test/helpers/wrangler-dev.ts).
import { startWranglerDev } from "../../test/helpers/wrangler-dev.ts";
import { treeCpuMs } from "./cpu.ts";

export interface Runtime {
  url: string;
  stop(): Promise<void>;
  /** CPU ms the runtime (wrangler and its workerd) has used so far. */
  cpuMs(): number;
}

/**
 * `vars` become `--var` bindings, e.g. the loopback model server's OPENAI_BASE_URL; `args` are more
 * `wrangler dev` arguments (an inspector port for a profile).
 */
export async function startRuntime(vars: Record<string, string> = {}, args: string[] = []): Promise<Runtime> {
  const server = await startWranglerDev({
    config: "bench/runtime/wrangler.toml",
    label: "bench",
    vars,
    args,
  });
  return { url: server.url, stop: server.stop, cpuMs: () => treeCpuMs(server.pid) };
}
