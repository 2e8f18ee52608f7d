// A CPU profile of one benchmark shape, for finding where the runtime's time goes (how the HTTP fan-out's
// hand-offs, the stream reader and the per-reply saves were found). Starts the benchmark runtime with an
// inspector port, warms the shape up, records the V8 profiler (through wrangler's inspector proxy)
// while it runs, writes the .cpuprofile (Chrome DevTools opens it) and prints the functions with the
// most time of their own and in total. Stops everything it started by its own PID.
//
//   npm run bench:profile                        the 100-wide fan-out over HTTP, 20 runs
//   SHAPE=chain MODEL=local RUNS=50 npm run bench:profile
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../test/helpers/wrangler-dev.ts";
import { Api } from "./lib/api.ts";
import { BENCH_MODEL_ID, modelServerVars, startModelServer } from "./lib/model-server.ts";
import { startRuntime } from "./lib/server.ts";
import { type Shape, troupeOrchestration } from "./lib/shapes.ts";

const kind = (process.env.SHAPE ?? "fanout") as Shape["kind"];
const size = Number(process.env.SIZE ?? 100);
const http = (process.env.MODEL ?? "http") === "http";
const runs = Number(process.env.RUNS ?? 20);
const ROLE = "Profiled";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** A minimal Chrome DevTools Protocol client: one request at a time, answered by id. */
async function inspector(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error("the inspector lists no target");
  // wrangler's inspector proxy refuses an upgrade without an Origin (undici's WebSocket sends none).
  const init = { headers: { origin: `http://127.0.0.1:${port}` } } as unknown as string[];
  const socket = new WebSocket(url, init);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot open ${url}`)), { once: true });
  });
  const waiting = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (event) => {
    // The proxy answers a request with a message of the same id (its result, if any, in it).
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  let next = 0;
  return {
    send<T>(method: string, params: Record<string, unknown> = {}): Promise<T | undefined> {
      const id = ++next;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => waiting.set(id, resolve as (result: unknown) => void));
    },
    close: () => socket.close(),
  };
}

function summary(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
  const name = (node: ProfileNode) =>
    `${node.callFrame.functionName || "(anonymous)"} ${path.basename(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const own = new Map<string, number>();
  const total = new Map<string, number>();
  for (const sample of profile.samples) {
    const node = byId.get(sample);
    if (!node) continue;
    own.set(name(node), (own.get(name(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = sample; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame || seen.has(name(frame))) continue;
      seen.add(name(frame));
      total.set(name(frame), (total.get(name(frame)) ?? 0) + 1);
    }
  }
  const table = (counts: Map<string, number>) =>
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, count]) => `${(count * msPerSample).toFixed(1).padStart(9)} ms  ${frame}`)
      .join("\n");
  return `own time (ms over ${runs} runs)\n${table(own)}\n\nin total\n${table(total)}`;
}

const server = await startModelServer();
const port = await freePort();
const runtime = await startRuntime(modelServerVars(server), ["--inspector-port", String(port)]);
try {
  const api = new Api(runtime.url);
  const tenantId = await api.newTenant("profile");
  await api.call("role.create", {
    name: ROLE,
    basePrompt: "You take one step of a profiled workflow.",
    hyperparameters: { model: `openai:${BENCH_MODEL_ID}` },
  });
  const modelPath = http ? { kind: "http" as const, roleName: ROLE } : { kind: "local" as const };
  const orchestrationId = await troupeOrchestration(api, { kind, size }, modelPath);
  const run = () => api.post("/bench/troupe", { tenantId, orchestrationId });
  for (let i = 0; i < 15; i++) await run();
  const cdp = await inspector(port);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  const startedAt = performance.now();
  for (let i = 0; i < runs; i++) await run();
  const took = performance.now() - startedAt;
  const profile = (await cdp.send<{ profile: Profile }>("Profiler.stop"))?.profile;
  if (!profile) throw new Error("the profiler answered without a profile");
  cdp.close();
  const file = path.join(tmpdir(), `troupe-${kind}-${size}-${http ? "http" : "local"}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(
    `${runs} runs of ${kind} ${size} (${http ? "model over HTTP" : "local model"}) in ${took.toFixed(0)} ms`,
  );
  console.log(`profile: ${file}\n\n${summary(profile, 30)}`);
} finally {
  await runtime.stop();
  await server.stop();
}
