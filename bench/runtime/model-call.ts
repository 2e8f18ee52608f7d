// The peers' one model call per step over HTTP: the same request Troupe's OpenAI-compatible provider
// sends (a system and a user message), to the benchmark's loopback model server. Benchmark-only code.

/** Where the peers' steps call: the runtime's OPENAI_BASE_URL and OPENAI_MODEL. */
export interface ModelServerRef {
  baseUrl: string;
  model: string;
}

/** Calls the chat-completions endpoint once for `step`; answers the reply's output tokens. */
export async function callModelServer(server: ModelServerRef, step: string): Promise<number> {
  const response = await fetch(`${server.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: server.model,
      messages: [
        { role: "system", content: "You are a helpful assistant taking one step of a multi-step workflow." },
        { role: "user", content: step },
      ],
      temperature: 0.7,
      max_tokens: 4096,
    }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`the model server answered ${response.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { usage?: { completion_tokens?: number } };
  return body.usage?.completion_tokens ?? 0;
}
