// The peer: Cloudflare Workflows running the same shapes with the same instant work (a 100-step chain,
// a 100-wide fan-out plus a join), releasing a latch at the end. With `model` set, each step (the join
// too) calls the benchmark's loopback model server once inside its step.do. Benchmark-only code.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { callModelServer, type ModelServerRef } from "./model-call";
import type { BenchEnv } from "./worker";

export interface BenchParams {
  kind: "chain" | "fanout";
  size: number;
  latch: string;
  model?: ModelServerRef;
}

export class BenchWorkflow extends WorkflowEntrypoint<BenchEnv, BenchParams> {
  override async run(event: Readonly<WorkflowEvent<BenchParams>>, step: WorkflowStep): Promise<number> {
    const { kind, size, latch, model } = event.payload;
    const work = async (name: string, value: number) =>
      model ? (await callModelServer(model, name)) + value : value;
    let total = 0;
    if (kind === "chain") {
      for (let i = 0; i < size; i++) total += await step.do(`step ${i}`, () => work(`step ${i}`, i));
    } else {
      const branches = await Promise.all(
        Array.from({ length: size }, (_, i) => step.do(`branch ${i}`, () => work(`branch ${i}`, i))),
      );
      total = await step.do("join", () =>
        work(
          "join",
          branches.reduce((a, b) => a + b, 0),
        ),
      );
    }
    await step.do("release", async () => {
      await this.env.LATCH.get(this.env.LATCH.idFromName(latch)).release();
      return true;
    });
    return total;
  }
}
