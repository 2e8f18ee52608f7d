// CPU time used by a process and all its descendants (Linux /proc), in ms: the runtime's `wrangler dev`
// and the workerd it starts. Read around a measured run, it shows whether a shape is bound by the
// machine's CPU (locally every object of a Worker shares one workerd thread; in production they do not).
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on Linux

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

function ownCpuMs(pid: number): number {
  try {
    // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU ms of `pid` and its descendants so far; 0 where /proc is not there. */
export function treeCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let total = 0;
  const queue = [pid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    total += ownCpuMs(next);
    queue.push(...childrenOf(next));
  }
  return total;
}
