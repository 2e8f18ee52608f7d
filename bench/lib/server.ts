// Starts the benchmark runtime (bench/runtime/wrangler.toml) with `wrangler dev` in a fresh persist
// folder on a free loopback port, and stops it by its own PID (see test/helpers/wrangler-dev.ts).
import { startWranglerDev } from "../../test/helpers/wrangler-dev.ts";

export interface Runtime {
  url: string;
  stop(): Promise<void>;
}

export async function startRuntime(): Promise<Runtime> {
  const server = await startWranglerDev({ config: "bench/runtime/wrangler.toml", label: "bench" });
  return { url: server.url, stop: server.stop };
}
