// Runs an orchestration: the input as JSON (pre-filled with the `context.input.*` fields its steps read),
// checked before sending, then the new execution opens.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { navigate } from "../lib/router";
import { type Orchestration, useTRPC } from "../lib/trpc";
import { Field } from "./field";
import { ErrorNotice } from "./ui";

/** `{ "userRequest": "" }` for a flow whose templates read {{context.input.userRequest}}. */
export function inputSkeleton(steps: Orchestration["steps"]): string {
  const keys = new Set<string>();
  for (const match of JSON.stringify(steps).matchAll(/\{\{\s*context\.input\.([A-Za-z_$][\w$]*)/g)) {
    if (match[1]) keys.add(match[1]);
  }
  return JSON.stringify(Object.fromEntries([...keys].map((key) => [key, ""])), null, 2);
}

function parseInput(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (!text.trim()) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `The input is not valid JSON: ${(error as Error).message}` };
  }
}

export function ExecuteForm({ orchestration }: { orchestration: Orchestration }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [text, setText] = useState(() => inputSkeleton(orchestration.steps));
  const [parseError, setParseError] = useState<string | null>(null);
  const execute = useMutation(
    trpc.orchestrationManagement.execute.mutationOptions({
      onSuccess: async (execution) => {
        queryClient.setQueryData(
          trpc.orchestrationManagement.getExecutionStatus.queryKey({ executionId: execution.id }),
          execution,
        );
        await queryClient.invalidateQueries({
          queryKey: trpc.orchestrationManagement.listExecutions.pathKey(),
        });
        navigate(`/executions/${execution.id}`);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseInput(text);
    setParseError(parsed.ok ? null : parsed.error);
    if (parsed.ok) execute.mutate({ orchestrationId: orchestration.id, input: parsed.value as never });
  };
  return (
    <form onSubmit={submit} className="execute-form" aria-labelledby="run-heading">
      <h2 id="run-heading">Run</h2>
      {orchestration.isActive ? null : (
        <p className="notice notice-warning">
          This orchestration is inactive: switch it on before running it.
        </p>
      )}
      <Field
        label="Input (JSON)"
        hint="Available to steps as {{context.input…}}. Leave empty for {}."
        errors={parseError ? [parseError] : []}
      >
        <textarea
          className="mono"
          rows={8}
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
        />
      </Field>
      <ErrorNotice error={execute.error} />
      <button type="submit" className="button primary" disabled={execute.isPending}>
        {execute.isPending ? "Starting…" : "Run orchestration"}
      </button>
    </form>
  );
}
