// `npm run bench`: measures Troupe's own cost (instant local model) against its floor (a bare alarm
// chain) and its peer (Cloudflare Workflows), all in one locally started runtime that this script
// starts and stops itself. Prints one table and writes bench/results/latest.json.
// Every figure is the median of RUNS measured runs (after one warm-up), with min and max; the two
// shape figures (tens of ms each) take SHAPE_RUNS after SHAPE_WARM_UPS, so their medians hold still
// on a noisy machine.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isTerminal } from "../durable-objects/engine/status.ts";
import type { RunStatus } from "../durable-objects/engine/types.ts";
import { Api, timed } from "./lib/api.ts";
import { type Figure, printReport, type Scaling } from "./lib/report.ts";
import { startRuntime } from "./lib/server.ts";
import { percentile, summarize } from "./lib/stats.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SHAPE_RUNS = 3 * RUNS;
/**
 * Steady state, not the first calls: the engine's code is JIT-compiled over its first runs (the first
 * fan-out of 100 takes about 1.8x as long as the tenth, the second 1.2x), the floor's few lines at once.
 */
const SHAPE_WARM_UPS = 10;
const CONCURRENT_EXECUTIONS = 200;
const API_CLIENTS = 50;
const REQUESTS_PER_CLIENT = 20;

type Shape = { kind: "chain" | "fanout" | "forEach"; size: number };

/** What the floor and Workflows run for a shape: they have no forEach, so its peer is the same fan-out. */
const peerShape = (shape: Shape): Shape =>
  shape.kind === "forEach" ? { kind: "fanout", size: shape.size } : shape;

async function repeat(measure: () => Promise<number>, runs = RUNS, warmUps = 1): Promise<number[]> {
  for (let i = 0; i < warmUps; i++) await measure();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measure());
  return samples;
}

/** Like `repeat` for two engines at once, taking turns, so a drift in the machine's load hits both. */
async function alternate(
  a: () => Promise<number>,
  b: () => Promise<number>,
  runs: number,
  warmUps: number,
): Promise<[number[], number[]]> {
  const samples: [number[], number[]] = [[], []];
  for (let i = 0; i < warmUps + runs; i++) {
    const [sa, sb] = [await a(), await b()];
    if (i < warmUps) continue;
    samples[0].push(sa);
    samples[1].push(sb);
  }
  return samples;
}

function stepsOf({ kind, size }: Shape) {
  if (kind === "chain") return Array.from({ length: size }, (_, i) => ({ name: `step ${i}` }));
  if (kind === "forEach") {
    const items = Array.from({ length: size }, (_, i) => i);
    const body = [{ name: "item", inputMapping: { item: "{{item}}" } }];
    return [
      { name: "each", stepType: "forEach", items, concurrency: Math.min(size, 100), steps: body },
      { name: "join" },
    ];
  }
  return [
    ...Array.from({ length: size }, (_, i) => ({ name: `branch ${i}`, parallelGroup: "fan" })),
    { name: "join" },
  ];
}

async function troupeOrchestration(api: Api, shape: Shape): Promise<string> {
  const created = await api.call<{ id: string }>("orchestrationManagement.create", {
    name: `${shape.kind} ${shape.size} ${crypto.randomUUID().slice(0, 6)}`,
    steps: stepsOf(shape),
  });
  return created.id;
}

/**
 * Both shapes: Troupe and the floor taking turns, then Workflows on its own (it keeps doing bookkeeping
 * after its latch is released, which would land in the others' figures).
 */
async function shapeFigures(api: Api, tenantId: string, shapes: Shape[]) {
  const ids = await Promise.all(shapes.map((shape) => troupeOrchestration(api, shape)));
  const troupe: number[][] = [];
  const floor: number[][] = [];
  for (const [i, shape] of shapes.entries()) {
    const [t, f] = await alternate(
      () => timed(() => api.post("/bench/troupe", { tenantId, orchestrationId: ids[i] })),
      () => timed(() => api.post("/bench/floor", peerShape(shape))),
      SHAPE_RUNS,
      SHAPE_WARM_UPS,
    );
    troupe.push(t);
    floor.push(f);
  }
  const workflows: number[][] = [];
  for (const shape of shapes)
    workflows.push(
      await repeat(
        () => timed(() => api.post("/bench/workflows", peerShape(shape))),
        SHAPE_RUNS,
        SHAPE_WARM_UPS,
      ),
    );
  return shapes.map((_, i) => ({
    troupe: troupe[i] ?? [],
    floor: floor[i] ?? [],
    workflows: workflows[i] ?? [],
  }));
}

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
  const roles = await load("role.list", undefined);
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
  const cold = await repeat(() => timed(() => run(script(crypto.randomUUID()))));
  const warmCode = script("warm");
  const warm = await repeat(() => timed(() => run(warmCode)));
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
      await repeat(() => timed(() => api.post("/bench/troupe", { tenantId, orchestrationId }))),
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

async function main() {
  const started = performance.now();
  const runtime = await startRuntime();
  try {
    const api = new Api(runtime.url);
    const tenantId = await api.newTenant("bench");
    const [chain, fan, each] = await shapeFigures(api, tenantId, [
      { kind: "chain", size: 100 },
      { kind: "fanout", size: 100 },
      { kind: "forEach", size: 100 },
    ]);
    if (!chain || !fan || !each) throw new Error("no shape figures");
    const perStep = (samples: number[]) => summarize(samples.map((ms) => ms / 100));
    if (process.env.BENCH_ONLY === "shapes") {
      // Quick loop for engine work: just the two shape figures, no report file.
      for (const [label, samples] of [
        ["chain ms/step", chain.troupe.map((ms) => ms / 100)],
        ["fan-out ms", fan.troupe],
        ["forEach ms", each.troupe],
      ] as const) {
        console.log(
          label,
          summarize(samples),
          "floor",
          label.startsWith("chain")
            ? perStep(chain.floor)
            : summarize(label.startsWith("fan") ? fan.floor : each.floor),
        );
      }
      return;
    }
    const figures: Figure[] = [
      {
        label: "step overhead, 100 sequential steps",
        unit: "ms/step",
        better: "lower",
        troupe: perStep(chain.troupe),
        floor: perStep(chain.floor),
        workflows: perStep(chain.workflows),
      },
      {
        label: "fan-out 100 + join",
        unit: "ms",
        better: "lower",
        troupe: summarize(fan.troupe),
        floor: summarize(fan.floor),
        workflows: summarize(fan.workflows),
      },
      {
        label: "forEach 100 items + join (peers: fan-out 100)",
        unit: "ms",
        better: "lower",
        troupe: summarize(each.troupe),
        floor: summarize(each.floor),
        workflows: summarize(each.workflows),
      },
      ...(await throughputFigures(api)),
      ...(await latencyFigures(api)),
      ...(await agentCodeFigures(api)),
    ];
    const scaling = await scalingFigures(api, tenantId);
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "", node: process.version },
      runs: RUNS,
      shapeRuns: SHAPE_RUNS,
      timing: "client-side, from the start request to the response that says the run has ended",
      figures,
      scaling,
      totalSeconds: Math.round((performance.now() - started) / 1000),
    };
    printReport(report);
    const out = path.resolve(import.meta.dirname, "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote bench/results/latest.json (${report.totalSeconds} s)`);
  } finally {
    await runtime.stop();
  }
}

await main();
