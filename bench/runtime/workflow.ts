// The peer: Cloudflare Workflows running the same shapes with the same instant work (a 100-step chain,
// a 100-wide fan-out plus a join), releasing a latch at the end. Benchmark-only code.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import type { BenchEnv } from "./worker";

export interface BenchParams {
  kind: "chain" | "fanout";
  size: number;
  latch: string;
}

export class BenchWorkflow extends WorkflowEntrypoint<BenchEnv, BenchParams> {
  override async run(event: Readonly<WorkflowEvent<BenchParams>>, step: WorkflowStep): Promise<number> {
    const { kind, size, latch } = event.payload;
    let total = 0;
    if (kind === "chain") {
      for (let i = 0; i < size; i++) total += await step.do(`step ${i}`, async () => i);
    } else {
      const branches = await Promise.all(
        Array.from({ length: size }, (_, i) => step.do(`branch ${i}`, async () => i)),
      );
      total = await step.do("join", async () => branches.reduce((a, b) => a + b, 0));
    }
    await step.do("release", async () => {
      await this.env.LATCH.get(this.env.LATCH.idFromName(latch)).release();
      return true;
    });
    return total;
  }
}
