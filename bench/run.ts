// `npm run bench`: measures Troupe's own cost against its floor (a bare alarm chain) and its peer
// (Cloudflare Workflows), all in one locally started runtime that this script starts and stops itself:
// first with the instant local model (only the platform's cost shows), then the chain and the fan-out
// with every step calling a loopback OpenAI-compatible server that answers at once (the call path real
// providers take; the floor and Workflows make the same one call per step). Prints one table and the
// HTTP targets, and writes bench/results/latest.json.
// Every figure is the median of RUNS measured runs (after one warm-up), with min and max; the shape
// figures (tens of ms each) take SHAPE_RUNS after SHAPE_WARM_UPS, so their medians hold still on a noisy
// machine. BENCH_ONLY=shapes (the local shapes) or BENCH_ONLY=http (the HTTP shapes and their targets)
// runs just those and writes no file: quick loops for engine work.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isTerminal } from "../durable-objects/engine/status.ts";
import type { RunStatus } from "../durable-objects/engine/types.ts";
import { Api, timed } from "./lib/api.ts";
import { BENCH_MODEL_ID, type ModelServer, modelServerVars, startModelServer } from "./lib/model-server.ts";
import { type Figure, printFigures, printReport, type Scaling } from "./lib/report.ts";
import { type Runtime, startRuntime } from "./lib/server.ts";
import { repeat, type Shape, type ShapeSamples, shapeFigures, troupeOrchestration } from "./lib/shapes.ts";
import { percentile, summarize } from "./lib/stats.ts";
import { type Compared, httpTargets, printTargets, type Target } from "./lib/targets.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SHAPE_RUNS = 3 * RUNS;
const BENCH_ONLY = process.env.BENCH_ONLY;
const CONCURRENT_EXECUTIONS = 200;
const API_CLIENTS = 50;
const REQUESTS_PER_CLIENT = 20;
const HTTP_ROLE = "Bench HTTP model";

/** Starts `count` runs at once; returns executions/s and each run's completion time. */
async function burst(count: number, one: () => Promise<unknown>) {
  const started = performance.now();
  const latencies = await Promise.all(Array.from({ length: count }, () => timed(one)));
  const wallMs = performance.now() - started;
  return { perSecond: (count / wallMs) * 1000, latencies };
}

async function throughputFigures(api: Api): Promise<Figure[]> {
  const orchestrationId = await troupeOrchestration(api, { kind: "chain", size: 5 });
  const throughOne = {
    troupe: async () => {
      const execution = await api.call<{ id: string; status: RunStatus }>("orchestrationManagement.execute", {
        orchestrationId,
      });
      // execute answers with the outcome when the run ended during its start; else wait for the end.
      if (!isTerminal(execution.status)) await api.post("/bench/troupe/wait", { executionId: execution.id });
    },
    floor: () => api.post("/bench/floor", { kind: "chain", size: 5 }),
    workflows: () => api.post("/bench/workflows", { kind: "chain", size: 5 }),
  };
  const results: Record<string, { perSecond: number[]; p50: number[]; p99: number[] }> = {};
  for (const [engine, one] of Object.entries(throughOne)) {
    const samples = { perSecond: [] as number[], p50: [] as number[], p99: [] as number[] };
    await burst(CONCURRENT_EXECUTIONS, one);
    for (let i = 0; i < RUNS; i++) {
      const run = await burst(CONCURRENT_EXECUTIONS, one);
      samples.perSecond.push(run.perSecond);
      samples.p50.push(percentile(run.latencies, 50));
      samples.p99.push(percentile(run.latencies, 99));
    }
    results[engine] = samples;
  }
  const figure = (
    key: "perSecond" | "p50" | "p99",
    label: string,
    unit: string,
    better: "higher" | "lower",
  ): Figure => ({
    label,
    unit,
    better,
    troupe: summarize(results.troupe?.[key] ?? []),
    floor: summarize(results.floor?.[key] ?? []),
    workflows: summarize(results.workflows?.[key] ?? []),
  });
  return [
    figure(
      "perSecond",
      `throughput, ${CONCURRENT_EXECUTIONS} concurrent 5-step executions`,
      "exec/s",
      "higher",
    ),
    figure("p50", "  completion time p50", "ms", "lower"),
    figure("p99", "  completion time p99", "ms", "lower"),
  ];
}

async function latencyFigures(api: Api): Promise<Figure[]> {
  for (let i = 0; i < 10; i++) await api.call("role.create", { name: `role ${i}`, basePrompt: "You help." });
  const orchestrationId = await troupeOrchestration(api, { kind: "chain", size: 5 });
  const execution = await api.call<{ id: string }>("orchestrationManagement.execute", { orchestrationId });
  await api.post("/bench/troupe/wait", { executionId: execution.id });
  const load = async (procedure: string, input: unknown) => {
    const p50: number[] = [];
    const p99: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const latencies: number[] = [];
      await Promise.all(
        Array.from({ length: API_CLIENTS }, async () => {
          for (let i = 0; i < REQUESTS_PER_CLIENT; i++)
            latencies.push(await timed(() => api.call(procedure, input, "query")));
        }),
      );
      if (run === 0) continue; // warm-up
      p50.push(percentile(latencies, 50));
      p99.push(percentile(latencies, 99));
    }
    return { p50: summarize(p50), p99: summarize(p99) };
  };
  // The first page (up to defaultPageSize roles); the bench tenant has a handful.
  const roles = await load("role.list", {});
  const status = await load("orchestrationManagement.getExecutionStatus", { executionId: execution.id });
  const at = `${API_CLIENTS} concurrent clients`;
  return [
    { label: `role.list p50 (${at})`, unit: "ms", better: "lower", troupe: roles.p50 },
    { label: "role.list p99", unit: "ms", better: "lower", troupe: roles.p99 },
    { label: `getExecutionStatus p50 (${at})`, unit: "ms", better: "lower", troupe: status.p50 },
    { label: "getExecutionStatus p99", unit: "ms", better: "lower", troupe: status.p99 },
  ];
}

/** A small meta script in the tenant's isolate: a fresh script (new isolate) and the same one again. */
async function agentCodeFigures(api: Api): Promise<Figure[]> {
  await api.call("role.create", { name: "Bench Designer", basePrompt: "You design.", tools: ["meta"] });
  const script = (nonce: string) =>
    `// ${nonce}\nconst roles = await list_roles();\nconsole.log(roles.length);`;
  const run = (code: string) => api.call("agent.runCode", { roleName: "Bench Designer", code });
  const cold = await repeat(() => timed(() => run(script(crypto.randomUUID()))), RUNS);
  const warmCode = script("warm");
  const warm = await repeat(() => timed(() => run(warmCode)), RUNS);
  return [
    {
      label: "agent code, small meta script, cold isolate",
      unit: "ms",
      better: "lower",
      troupe: summarize(cold),
    },
    { label: "agent code, same script, warm isolate", unit: "ms", better: "lower", troupe: summarize(warm) },
  ];
}

async function scalingFigures(api: Api, tenantId: string): Promise<Scaling[]> {
  const shapes: Shape[] = [
    { kind: "chain", size: 10 },
    { kind: "chain", size: 100 },
    { kind: "chain", size: 1000 },
    { kind: "fanout", size: 10 },
    { kind: "fanout", size: 100 },
    { kind: "fanout", size: 500 },
    { kind: "forEach", size: 10 },
    { kind: "forEach", size: 100 },
    { kind: "forEach", size: 1000 },
  ];
  const rows: Scaling[] = [];
  for (const shape of shapes) {
    const orchestrationId = await troupeOrchestration(api, shape);
    const total = summarize(
      await repeat(() => timed(() => api.post("/bench/troupe", { tenantId, orchestrationId })), RUNS),
    );
    rows.push({
      label:
        shape.kind === "chain"
          ? `${shape.size} sequential steps`
          : shape.kind === "fanout"
            ? `fan-out ${shape.size} + join`
            : `forEach ${shape.size} items + join`,
      size: shape.size,
      total,
    });
  }
  return rows;
}

const perStep = (samples: number[]) => summarize(samples.map((ms) => ms / 100));

/** The rows of one shape: Troupe, the floor and Workflows side by side. */
function shapeFigure(label: string, unit: "ms" | "ms/step", samples: ShapeSamples): Figure & Compared {
  const of = unit === "ms/step" ? perStep : summarize;
  return {
    label,
    unit,
    better: "lower",
    troupe: of(samples.troupe),
    floor: of(samples.floor),
    workflows: of(samples.workflows),
  };
}

async function localShapeFigures(
  api: Api,
  tenantId: string,
  server: ModelServer,
  runtime: Runtime,
): Promise<Figure[]> {
  const [chain, fan, each] = await shapeFigures(
    api,
    tenantId,
    server,
    { kind: "local" },
    [
      { kind: "chain", size: 100 },
      { kind: "fanout", size: 100 },
      { kind: "forEach", size: 100 },
    ],
    SHAPE_RUNS,
    () => runtime.cpuMs(),
  );
  if (!chain || !fan || !each) throw new Error("no shape figures");
  return [
    shapeFigure("step overhead, 100 sequential steps", "ms/step", chain),
    shapeFigure("fan-out 100 + join", "ms", fan),
    shapeFigure("forEach 100 items + join (peers: fan-out 100)", "ms", each),
  ];
}

/**
 * The chain and the fan-out with every step's model behind the loopback server, in a tenant of their
 * own (its extra role stays out of the role.list figure), and the targets read from them.
 */
async function httpFigures(
  runtime: Runtime,
  server: ModelServer,
): Promise<{ figures: Figure[]; targets: Target[] }> {
  const api = new Api(runtime.url);
  const tenantId = await api.newTenant("bench-http");
  await api.call("role.create", {
    name: HTTP_ROLE,
    basePrompt: "You take one step of a benchmark workflow.",
    hyperparameters: { model: `openai:${BENCH_MODEL_ID}` },
  });
  const [chain, fan] = await shapeFigures(
    api,
    tenantId,
    server,
    { kind: "http", roleName: HTTP_ROLE },
    [
      { kind: "chain", size: 100 },
      { kind: "fanout", size: 100 },
    ],
    SHAPE_RUNS,
    () => runtime.cpuMs(),
  );
  if (!chain || !fan) throw new Error("no HTTP shape figures");
  const chainFigure = shapeFigure("step overhead, 100 sequential steps, model over HTTP", "ms/step", chain);
  const fanFigure = shapeFigure("fan-out 100 + join, model over HTTP", "ms", fan);
  // Locally every object shares the one workerd thread (and the model server runs in this process), so
  // a shape that uses the runtime's CPU the whole time it runs is bound by this machine, not by waiting.
  const figures = [
    chainFigure,
    fanFigure,
    shapeFigure("runtime CPU, chain over HTTP (ms/step)", "ms/step", { ...chain, ...chain.cpu }),
    shapeFigure("runtime CPU, fan-out 100 + join over HTTP (ms)", "ms", { ...fan, ...fan.cpu }),
  ];
  return { figures, targets: httpTargets(chainFigure, fanFigure) };
}

/** Everything, in the order the table shows it; writes bench/results/latest.json. */
async function fullRun(runtime: Runtime, server: ModelServer, started: number): Promise<void> {
  const api = new Api(runtime.url);
  const tenantId = await api.newTenant("bench");
  const local = await localShapeFigures(api, tenantId, server, runtime);
  const http = await httpFigures(runtime, server);
  const figures: Figure[] = [
    ...local,
    ...http.figures,
    ...(await throughputFigures(api)),
    ...(await latencyFigures(api)),
    ...(await agentCodeFigures(api)),
  ];
  const scaling = await scalingFigures(api, tenantId);
  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? "",
      node: process.version,
      loadAverageAtEnd: os.loadavg().map((load) => Math.round(load * 100) / 100),
    },
    runs: RUNS,
    shapeRuns: SHAPE_RUNS,
    timing: "client-side, from the start request to the response that says the run has ended",
    models: {
      local: "the built-in local model, answered inline",
      http: `"openai:${BENCH_MODEL_ID}": a loopback OpenAI-compatible server (bench/lib/model-server.ts) that answers at once; the floor and Workflows call it once per step too`,
    },
    figures,
    targets: http.targets,
    scaling,
    totalSeconds: Math.round((performance.now() - started) / 1000),
  };
  printReport(report);
  const out = path.resolve(import.meta.dirname, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote bench/results/latest.json (${report.totalSeconds} s)`);
}

/** BENCH_ONLY: one group of figures, printed, no report file. */
async function partialRun(only: "shapes" | "http", runtime: Runtime, server: ModelServer): Promise<void> {
  if (only === "http") {
    const http = await httpFigures(runtime, server);
    console.log(`\nHTTP shapes — medians of ${SHAPE_RUNS} runs (min–max)\n`);
    printFigures(http.figures);
    printTargets(http.targets);
    return;
  }
  const api = new Api(runtime.url);
  const figures = await localShapeFigures(api, await api.newTenant("bench"), server, runtime);
  console.log(`\nLocal-model shapes — medians of ${SHAPE_RUNS} runs (min–max)\n`);
  printFigures(figures);
}

async function main() {
  const started = performance.now();
  if (BENCH_ONLY !== undefined && BENCH_ONLY !== "shapes" && BENCH_ONLY !== "http")
    throw new Error(`BENCH_ONLY is "shapes" or "http", not "${BENCH_ONLY}"`);
  const server = await startModelServer();
  try {
    // BENCH_FLOOR_CONNECTIONS=6 holds the floor's HTTP fan-out to production's six connections (wrangler
    // dev enforces none), to compare it with Troupe, which holds itself to them.
    const floorConnections = process.env.BENCH_FLOOR_CONNECTIONS;
    const runtime = await startRuntime({
      ...modelServerVars(server),
      ...(floorConnections ? { FLOOR_CONNECTIONS: floorConnections } : {}),
    });
    try {
      if (BENCH_ONLY) await partialRun(BENCH_ONLY, runtime, server);
      else await fullRun(runtime, server, started);
    } finally {
      await runtime.stop();
    }
  } finally {
    await server.stop();
  }
}

await main();
