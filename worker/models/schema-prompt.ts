// The outputSchema as an instruction in the system prompt, for models that take no json_schema
// response_format: they are asked for JSON (json_object) and told the shape in words the model reads.
import type { ChatMessage } from "./types";

export function withSchemaInstruction(
  messages: ChatMessage[],
  schema: Record<string, unknown>,
): ChatMessage[] {
  const instruction = `Reply with only a JSON value that matches this JSON Schema:\n${JSON.stringify(schema)}`;
  const [first, ...rest] = messages;
  if (first?.role === "system")
    return [{ role: "system", content: `${first.content}\n\n${instruction}` }, ...rest];
  return [{ role: "system", content: instruction }, ...messages];
}
