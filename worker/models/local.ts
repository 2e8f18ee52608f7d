// The built-in `local` provider: deterministic, no network, instant. It is the default when nothing
// else is configured, so `npm start` runs every flow out of the box; its replies say they are simulated.
import type { ModelProvider, ModelReply, ModelRequest } from "./types";
import { estimateTokens } from "./types";

function summary(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The reply, computed synchronously: the engine may run it inline, since it has no effect outside. */
export function localReply(request: ModelRequest): ModelReply {
  const system = request.messages.find((m) => m.role === "system")?.content ?? "";
  const user = request.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
  const note = "Simulated reply from Troupe's built-in local model (no real model is configured).";
  const text = request.json
    ? JSON.stringify({ simulated: true, note, role: summary(system, 80), input: summary(user) })
    : `${note}\nRole: ${summary(system, 80) || "(no role prompt)"}\nInput: ${summary(user)}`;
  const tokensIn = request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);
  return {
    ok: true,
    text,
    usage: { model: request.model, tokensIn, tokensOut: estimateTokens(text), costUsd: 0 },
  };
}

export const localProvider: ModelProvider = {
  name: "local",
  complete: async (request) => localReply(request),
};
