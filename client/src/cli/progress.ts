// Live progress of a run. On a terminal: one block redrawn in place (log-update), a spinner per running
// step with its name, state, tokens and cost. Elsewhere (CI, pipes, --json): one plain line per step
// change, never a control character, so logs stay readable.
import { createLogUpdate } from "log-update";
import type { StepChange } from "../run.ts";
import type { ExecutionStatus, StepLog } from "../types.ts";
import { stepLabel, stepSpending, stepState } from "./format.ts";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 80;
const ICONS: Record<string, string> = {
  completed: "✔",
  failed: "✖",
  cancelled: "■",
  skipped: "↷",
  pending: "·",
  waiting: "⏸",
};

export interface Progress {
  onStep(change: StepChange): void;
  onStatus(status: ExecutionStatus): void;
  /** Leaves the last picture on screen (TTY) and stops the spinner. */
  stop(): void;
}

/** One line per step change; a step's first sighting while still pending is not a change worth a line. */
export function plainProgress(write: (line: string) => void): Progress {
  return {
    onStep({ step, previous }) {
      if (!previous && step.status === "pending") return;
      write(`${stepLabel(step).trim()}: ${stepState(step)}${stepSpending(step)}`);
    },
    onStatus() {},
    stop() {},
  };
}

export function terminalProgress(stream: NodeJS.WriteStream): Progress {
  const render = createLogUpdate(stream, { showCursor: false });
  let latest: ExecutionStatus | undefined;
  let frame = 0;
  const draw = () => {
    if (!latest) return;
    const lines = [`${latest.orchestrationName} · ${latest.id} · ${latest.status}`];
    const width = Math.max(...latest.stepLogs.map((step) => stepLabel(step).length));
    for (const step of latest.stepLogs) lines.push(stepLine(step, width, frame));
    render(lines.join("\n"));
  };
  const timer = setInterval(() => {
    frame = (frame + 1) % SPINNER.length;
    draw();
  }, FRAME_MS);
  return {
    onStep() {},
    onStatus(status) {
      latest = status;
      draw();
    },
    stop() {
      clearInterval(timer);
      draw();
      render.done();
    },
  };
}

function stepLine(step: StepLog, width: number, frame: number): string {
  const icon = step.status === "running" ? (SPINNER[frame] ?? "-") : (ICONS[step.status] ?? "·");
  return `${icon} ${stepLabel(step).padEnd(width)}  ${stepState(step)}${stepSpending(step)}`;
}
