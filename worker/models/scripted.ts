// Scripted models for tests and benchmarks: a role whose hyperparameters.model is "script:<name>" is
// answered by the function registered under <name> in this isolate. Nothing is registered in a
// deployment, so such a model fails there with a clear, non-retryable error.
import type { ModelReply, ModelRequest } from "./types";

export interface ScriptCall {
  request: ModelRequest;
  signal: AbortSignal;
}
export type ModelScript = (call: ScriptCall) => ModelReply | string | Promise<ModelReply | string>;

const scripts = new Map<string, ModelScript>();
export const SCRIPT_PREFIX = "script:";

export function registerScript(name: string, script: ModelScript): string {
  scripts.set(name, script);
  return `${SCRIPT_PREFIX}${name}`;
}

export function unregisterScript(name: string): void {
  scripts.delete(name);
}

export async function runScript(request: ModelRequest, signal: AbortSignal): Promise<ModelReply> {
  const name = request.model.slice(SCRIPT_PREFIX.length);
  const script = scripts.get(name);
  if (!script) {
    return {
      ok: false,
      error: { kind: "config", message: `no scripted model "${name}" is registered`, retryable: false },
    };
  }
  const reply = await script({ request, signal });
  if (typeof reply !== "string") return reply;
  return { ok: true, text: reply, usage: { model: request.model, tokensIn: 0, tokensOut: 0, costUsd: 0 } };
}
