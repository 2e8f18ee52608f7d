// Turns a model reply into the step's output: a reply that is JSON, or holds exactly one fenced json
// block, is parsed (so conditions like `testResults.passed` work); otherwise it is the text. Pure.
import type { JsonValue, StepError } from "./types";

const FENCE = /```(?:json|JSON)\s*\n([\s\S]*?)\n?```/g;

function tryJson(text: string): { ok: true; value: JsonValue } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue };
  } catch {
    return { ok: false };
  }
}

export function parseOutput(
  text: string,
  format: "auto" | "json" | "text",
): { ok: true; output: JsonValue } | { ok: false; error: StepError } {
  if (format === "text") return { ok: true, output: text };
  const trimmed = text.trim();
  if (/^[[{"]/.test(trimmed) || /^-?\d/.test(trimmed) || /^(true|false|null)$/.test(trimmed)) {
    const whole = tryJson(trimmed);
    if (whole.ok) return { ok: true, output: whole.value };
  }
  const fenced = [...text.matchAll(FENCE)];
  if (fenced.length === 1 && fenced[0]?.[1] !== undefined) {
    const block = tryJson(fenced[0][1]);
    if (block.ok) return { ok: true, output: block.value };
  }
  if (format === "json") {
    return {
      ok: false,
      error: {
        kind: "invalid_output",
        message: "the step requires JSON output, but the reply is not JSON",
        retryable: true,
      },
    };
  }
  return { ok: true, output: text };
}
