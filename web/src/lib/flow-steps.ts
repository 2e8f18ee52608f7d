// The steps of a definition as the graph needs them, read leniently from whatever the editor holds (a
// half-typed definition still draws), and the one-line summaries of a step's settings.
import { formatDuration } from "./format";

export interface GraphStep {
  name: string;
  order?: number;
  roleName?: string;
  parallelGroup?: string;
  condition?: { field: string; operator: string; value: unknown };
  maxRetries?: number;
  retryDelay?: number;
  retryBackoff?: string;
  timeout?: number;
  outputMapping?: Record<string, unknown>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const str = (value: unknown) => (typeof value === "string" ? value : undefined);
const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

/** Reads `{ steps: [...] }` (or a bare array) without trusting it; unnamed steps get a placeholder name. */
export function graphStepsOf(definition: unknown): GraphStep[] {
  const raw = Array.isArray(definition) ? definition : isRecord(definition) ? definition.steps : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((step, index) => {
    const condition = isRecord(step.condition) ? step.condition : undefined;
    const graphStep: GraphStep = { name: str(step.name) ?? `(step ${index + 1} has no name)` };
    const order = num(step.order);
    if (order !== undefined) graphStep.order = order;
    const roleName = str(step.roleName);
    if (roleName !== undefined) graphStep.roleName = roleName;
    const group = str(step.parallelGroup);
    if (group !== undefined) graphStep.parallelGroup = group;
    if (condition) {
      graphStep.condition = {
        field: str(condition.field) ?? "?",
        operator: str(condition.operator) ?? "?",
        value: condition.value,
      };
    }
    for (const key of ["maxRetries", "retryDelay", "timeout"] as const) {
      const value = num(step[key]);
      if (value !== undefined) graphStep[key] = value;
    }
    const backoff = str(step.retryBackoff);
    if (backoff !== undefined) graphStep.retryBackoff = backoff;
    if (isRecord(step.outputMapping)) graphStep.outputMapping = step.outputMapping;
    return graphStep;
  });
}

export function conditionText(step: GraphStep): string | null {
  const condition = step.condition;
  if (!condition) return null;
  if (condition.operator === "exists" || condition.operator === "not_exists") {
    return `only if ${condition.field} ${condition.operator === "exists" ? "exists" : "does not exist"}`;
  }
  return `only if ${condition.field} ${condition.operator} ${JSON.stringify(condition.value ?? null)}`;
}

export function retryText(step: GraphStep): string {
  const retries = step.maxRetries ?? 0;
  const timeout = `timeout ${formatDuration(step.timeout ?? 300_000)}`;
  if (retries === 0) return `no retries · ${timeout}`;
  const delay = formatDuration(step.retryDelay ?? 1000);
  return `retry ×${retries} (${delay}${step.retryBackoff === "exponential" ? ", exponential" : ""}) · ${timeout}`;
}
