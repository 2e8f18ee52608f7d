// A tenant's model provider: its name, kind, endpoint, API key (write-only: blank when editing keeps the
// stored one) and the models it serves, one row each with context window, prices and capabilities.
import type { FormEvent } from "react";
import { type FieldIssue, issuesAt } from "../lib/errors";
import {
  CAPABILITIES,
  emptyModel,
  type ModelDraft,
  type ProviderDraft,
  type ProviderKind,
} from "../lib/provider-draft";
import { Field } from "./field";

interface ProviderFormProps {
  draft: ProviderDraft;
  onChange: (draft: ProviderDraft) => void;
  onSubmit: () => void;
  issues: readonly FieldIssue[];
  /** The stored key's last four characters when editing, null for a keyless provider; undefined: new. */
  keyLast4?: string | null;
  submitLabel: string;
  busy: boolean;
}

const KINDS: { value: ProviderKind; label: string }[] = [
  { value: "openai-compatible", label: "OpenAI-compatible (OpenAI, OpenRouter, Groq, vLLM, Ollama…)" },
  { value: "workers-ai", label: "Workers AI" },
];

function keyHint(keyLast4: string | null | undefined): string {
  if (keyLast4 === undefined)
    return "Stored encrypted; after saving only its last four characters are shown.";
  const stored = keyLast4 ? `The stored key ends in ••••${keyLast4}.` : "No key is stored.";
  return `${stored} Leave this empty to keep it unchanged; type a new key to replace it.`;
}

function ModelRow({
  model,
  index,
  issues,
  onChange,
  onRemove,
}: {
  model: ModelDraft;
  index: number;
  issues: readonly FieldIssue[];
  onChange: (model: ModelDraft) => void;
  onRemove?: () => void;
}) {
  const at = (field: string) => issuesAt(issues, `models[${index}].${field}`);
  const text = (key: "id" | "contextWindow" | "priceIn" | "priceOut") => ({
    value: model[key],
    onChange: (e: { target: { value: string } }) => onChange({ ...model, [key]: e.target.value }),
  });
  const rowErrors = issues.filter((issue) => issue.path === `models[${index}]`).map((i) => i.message);
  return (
    <fieldset className="model-row" data-model-row={index}>
      <legend>Model {index + 1}</legend>
      <div className="model-row-fields">
        <Field label="Model id" errors={at("id")} hint="As the provider names it.">
          <input {...text("id")} required autoComplete="off" className="mono" />
        </Field>
        <Field label="Context window" errors={at("contextWindow")} hint="Tokens.">
          <input type="number" inputMode="numeric" min={1} {...text("contextWindow")} />
        </Field>
        <Field label="Price in" errors={at("priceIn")} hint="USD per million input tokens.">
          <input type="number" inputMode="decimal" min={0} step="any" {...text("priceIn")} />
        </Field>
        <Field label="Price out" errors={at("priceOut")} hint="USD per million output tokens.">
          <input type="number" inputMode="decimal" min={0} step="any" {...text("priceOut")} />
        </Field>
      </div>
      <fieldset className="checks">
        <legend className="visually-hidden">Capabilities of model {index + 1}</legend>
        {CAPABILITIES.map(([key, label]) => (
          <label key={key} className="check">
            <input
              type="checkbox"
              checked={model.capabilities[key]}
              onChange={(e) =>
                onChange({ ...model, capabilities: { ...model.capabilities, [key]: e.target.checked } })
              }
            />
            {label}
          </label>
        ))}
        {onRemove ? (
          <button type="button" className="button small" onClick={onRemove}>
            Remove<span className="visually-hidden"> model {index + 1}</span>
          </button>
        ) : null}
      </fieldset>
      {[...rowErrors, ...at("capabilities")].length ? (
        <p className="field-error">{[...rowErrors, ...at("capabilities")].join("; ")}</p>
      ) : null}
    </fieldset>
  );
}

export function ProviderForm(props: ProviderFormProps) {
  const { draft, onChange, onSubmit, issues, keyLast4, submitLabel, busy } = props;
  const set = <K extends keyof ProviderDraft>(key: K, value: ProviderDraft[K]) =>
    onChange({ ...draft, [key]: value });
  const at = (path: string) => issuesAt(issues, path);
  const setModel = (index: number, model: ModelDraft) =>
    set(
      "models",
      draft.models.map((m, i) => (i === index ? model : m)),
    );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  const modelListErrors = issues.filter((issue) => issue.path === "models").map((i) => i.message);
  return (
    <form className="provider-form" onSubmit={submit} noValidate>
      <section className="card grid-2">
        <h2 className="span-all">Endpoint</h2>
        <Field
          label="Name"
          errors={at("name")}
          hint="Lowercase letters, digits, “.”, “_” or “-”. Roles name its models “<name>:<model id>”."
        >
          <input value={draft.name} onChange={(e) => set("name", e.target.value)} required maxLength={64} />
        </Field>
        <Field label="Kind" errors={at("kind")}>
          <select value={draft.kind} onChange={(e) => set("kind", e.target.value as ProviderKind)}>
            {KINDS.map((kind) => (
              <option key={kind.value} value={kind.value}>
                {kind.label}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Base URL"
          errors={at("baseUrl")}
          hint="Where the chat-completions API lives, e.g. https://openrouter.ai/api/v1. Must be https."
        >
          <input
            type="url"
            value={draft.baseUrl}
            onChange={(e) => set("baseUrl", e.target.value)}
            autoComplete="off"
            className="mono"
          />
        </Field>
        <Field label="API key" errors={at("apiKey")} hint={keyHint(keyLast4)}>
          <input
            type="password"
            value={draft.apiKey}
            onChange={(e) => set("apiKey", e.target.value)}
            autoComplete="new-password"
            placeholder={keyLast4 ? `unchanged (••••${keyLast4})` : ""}
            className="mono"
          />
        </Field>
      </section>

      <section className="card" aria-labelledby="provider-models">
        <h2 id="provider-models">Models</h2>
        <p className="muted">
          Troupe chooses among these by capability, context window and price when a role names no model.
        </p>
        {modelListErrors.length ? <p className="field-error">{modelListErrors.join("; ")}</p> : null}
        {draft.models.map((model, index) => (
          <ModelRow
            key={model.rowKey}
            model={model}
            index={index}
            issues={issues}
            onChange={(next) => setModel(index, next)}
            onRemove={
              draft.models.length > 1
                ? () =>
                    set(
                      "models",
                      draft.models.filter((_, i) => i !== index),
                    )
                : undefined
            }
          />
        ))}
        <button
          type="button"
          className="button small"
          onClick={() => set("models", [...draft.models, emptyModel()])}
        >
          Add a model
        </button>
      </section>

      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
