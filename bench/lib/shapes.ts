// The benchmark's shapes (a chain, a fan-out plus a join, a forEach plus a join) run by Troupe, the floor
// and Workflows, with their model either the instant local one or the loopback model server over HTTP.
// Every measured run is checked after its timing: Troupe's ended "completed", and each engine made
// exactly the model calls over HTTP its shape calls for (none for the local model), so a run that failed
// early or retried cannot pass as a fast one.
import { type Api, timed } from "./api.ts";
import type { ModelServer } from "./model-server.ts";

export type Shape = { kind: "chain" | "fanout" | "forEach"; size: number };

/**
 * Steady state, not the first calls: the engine's code is JIT-compiled over its first runs (the first
 * fan-out of 100 takes about 1.8x as long as the tenth, the second 1.2x), the floor's few lines at once.
 */
export const SHAPE_WARM_UPS = 10;

/** How the steps reach their model: the local model (inline), or a role whose model is the HTTP server. */
export type ModelPath = { kind: "local" } | { kind: "http"; roleName: string };

export interface ShapeSamples {
  troupe: number[];
  floor: number[];
  workflows: number[];
  /** CPU ms the runtime used during each measured run, per engine (warm-ups left out). */
  cpu: { troupe: number[]; floor: number[]; workflows: number[] };
}

/** `run`, also noting the runtime's CPU ms during it into `samples`. */
function metered(run: () => Promise<number>, cpuMs: () => number, samples: number[]) {
  return async () => {
    const before = cpuMs();
    const ms = await run();
    samples.push(cpuMs() - before);
    return ms;
  };
}

/** What the floor and Workflows run for a shape: they have no forEach, so its peer is the same fan-out. */
const peerShape = (shape: Shape): Shape =>
  shape.kind === "forEach" ? { kind: "fanout", size: shape.size } : shape;

/** Model calls one run of the shape makes over HTTP: one per step, the join included. */
const callsOf = (shape: Shape, path: ModelPath) =>
  path.kind === "local" ? 0 : shape.kind === "chain" ? shape.size : shape.size + 1;

export async function repeat(measure: () => Promise<number>, runs: number, warmUps = 1): Promise<number[]> {
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

function stepsOf({ kind, size }: Shape, path: ModelPath) {
  const role = path.kind === "http" ? { roleName: path.roleName } : {};
  if (kind === "chain") return Array.from({ length: size }, (_, i) => ({ name: `step ${i}`, ...role }));
  if (kind === "forEach") {
    const items = Array.from({ length: size }, (_, i) => i);
    const body = [{ name: "item", inputMapping: { item: "{{item}}" }, ...role }];
    return [
      { name: "each", stepType: "forEach", items, concurrency: Math.min(size, 100), steps: body },
      { name: "join", ...role },
    ];
  }
  return [
    ...Array.from({ length: size }, (_, i) => ({ name: `branch ${i}`, parallelGroup: "fan", ...role })),
    { name: "join", ...role },
  ];
}

export async function troupeOrchestration(
  api: Api,
  shape: Shape,
  path: ModelPath = { kind: "local" },
): Promise<string> {
  const created = await api.call<{ id: string }>("orchestrationManagement.create", {
    name: `${shape.kind} ${shape.size} ${path.kind} ${crypto.randomUUID().slice(0, 6)}`,
    steps: stepsOf(shape, path),
  });
  return created.id;
}

/** Why a Troupe run did not complete, from its status view: the run's error, else its first step error. */
async function failureOf(api: Api, executionId: string): Promise<string> {
  const view = await api.call<{
    error: string | null;
    stepLogs: { stepName?: string; error: string | null }[];
  }>("orchestrationManagement.getExecutionStatus", { executionId }, "query");
  const step = view.stepLogs.find((log) => log.error);
  return view.error ?? (step ? `step "${step.stepName}": ${step.error}` : "no error recorded");
}

/** Times one run and checks it afterwards (outside the timing). */
function checkedRun(
  api: Api,
  server: ModelServer,
  label: string,
  expectedCalls: number,
  start: () => Promise<unknown>,
): () => Promise<number> {
  return async () => {
    const callsBefore = server.calls();
    let answer: unknown;
    const ms = await timed(async () => {
      answer = await start();
    });
    const troupe = answer as { status?: string; executionId?: string };
    if (troupe.status !== undefined && troupe.status !== "completed")
      throw new Error(
        `${label}: the run ended "${troupe.status}": ${await failureOf(api, troupe.executionId ?? "")}`,
      );
    const made = server.calls() - callsBefore;
    if (made !== expectedCalls)
      throw new Error(`${label}: ${made} model calls over HTTP, expected ${expectedCalls}`);
    return ms;
  };
}

/**
 * Each shape: Troupe and the floor taking turns, then Workflows on its own (it keeps doing bookkeeping
 * after its latch is released, which would land in the others' figures).
 */
export async function shapeFigures(
  api: Api,
  tenantId: string,
  server: ModelServer,
  path: ModelPath,
  shapes: Shape[],
  runs: number,
  cpuMs: () => number,
): Promise<ShapeSamples[]> {
  const http = path.kind === "http";
  const peer = (shape: Shape) => ({ ...peerShape(shape), http });
  const ids = await Promise.all(shapes.map((shape) => troupeOrchestration(api, shape, path)));
  const troupe: number[][] = [];
  const floor: number[][] = [];
  const cpu = shapes.map(() => ({
    troupe: [] as number[],
    floor: [] as number[],
    workflows: [] as number[],
  }));
  for (const [i, shape] of shapes.entries()) {
    const label = `${shape.kind} ${shape.size} (${path.kind} model)`;
    const calls = callsOf(shape, path);
    const [t, f] = await alternate(
      metered(
        checkedRun(api, server, `Troupe ${label}`, calls, () =>
          api.post("/bench/troupe", { tenantId, orchestrationId: ids[i] }),
        ),
        cpuMs,
        cpu[i]?.troupe ?? [],
      ),
      metered(
        checkedRun(api, server, `floor ${label}`, calls, () => api.post("/bench/floor", peer(shape))),
        cpuMs,
        cpu[i]?.floor ?? [],
      ),
      runs,
      SHAPE_WARM_UPS,
    );
    troupe.push(t);
    floor.push(f);
  }
  const workflows: number[][] = [];
  for (const [i, shape] of shapes.entries()) {
    const label = `Workflows ${shape.kind} ${shape.size} (${path.kind} model)`;
    const run = checkedRun(api, server, label, callsOf(shape, path), () =>
      api.post("/bench/workflows", peer(shape)),
    );
    workflows.push(await repeat(metered(run, cpuMs, cpu[i]?.workflows ?? []), runs, SHAPE_WARM_UPS));
  }
  return shapes.map((_, i) => ({
    troupe: troupe[i] ?? [],
    floor: floor[i] ?? [],
    workflows: workflows[i] ?? [],
    cpu: {
      troupe: cpu[i]?.troupe.slice(-runs) ?? [],
      floor: cpu[i]?.floor.slice(-runs) ?? [],
      workflows: cpu[i]?.workflows.slice(-runs) ?? [],
    },
  }));
}
