// The call path's targets (issue 12), read from the HTTP figures' medians: a chain step over HTTP costs
// at most the floor's, a fan-out of 100 plus a join takes at most 1.5x the floor's, and both are at
// least 5x below Workflows'.
import { round, type Summary } from "./stats.ts";

export interface Target {
  label: string;
  unit: string;
  troupe: number;
  /** The most Troupe's median may be. */
  bound: number;
  /** How the bound is derived, e.g. "floor 2.1 x 1.5". */
  boundFrom: string;
  pass: boolean;
}

/** A figure with all three engines measured. */
export interface Compared {
  troupe: Summary;
  floor: Summary;
  workflows: Summary;
}

function target(
  label: string,
  unit: string,
  troupe: Summary,
  peer: string,
  peerMedian: number,
  factor: number,
): Target {
  const bound = peerMedian * factor;
  const by = factor === 1 ? "" : factor > 1 ? ` x ${factor}` : ` / ${round(1 / factor)}`;
  return {
    label,
    unit,
    troupe: round(troupe.median, 3),
    bound: round(bound, 3),
    boundFrom: `${peer} ${round(peerMedian, 3)}${by}`,
    pass: troupe.median <= bound,
  };
}

/** `chain` in ms per step, `fanOut` in ms, both over HTTP. */
export function httpTargets(chain: Compared, fanOut: Compared): Target[] {
  return [
    target("chain per step <= floor's", "ms/step", chain.troupe, "floor", chain.floor.median, 1),
    target("fan-out 100 + join <= 1.5x floor's", "ms", fanOut.troupe, "floor", fanOut.floor.median, 1.5),
    target(
      "chain per step >= 5x below Workflows'",
      "ms/step",
      chain.troupe,
      "Workflows",
      chain.workflows.median,
      0.2,
    ),
    target(
      "fan-out 100 + join >= 5x below Workflows'",
      "ms",
      fanOut.troupe,
      "Workflows",
      fanOut.workflows.median,
      0.2,
    ),
  ];
}

export function printTargets(targets: Target[]): void {
  console.log("\nTargets, model over HTTP (issue 12; medians):\n");
  for (const t of targets)
    console.log(
      `${t.pass ? "PASS" : "FAIL"}  ${t.label}: Troupe ${t.troupe} ${t.unit}, at most ${t.bound} (${t.boundFrom})`,
    );
}
