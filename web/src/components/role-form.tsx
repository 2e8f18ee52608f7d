// Every field of a role as the usage guide defines it: name, description, the base prompt (the system
// message), capabilities, context limits, hyperparameters and tools, with `meta` marked as a privilege.
import type { FormEvent } from "react";
import { type FieldIssue, issuesAt } from "../lib/errors";
import { Field } from "./field";
import { ModelPicker } from "./model-picker";

export type MetaScopeFlags = Record<"read" | "run" | "write", boolean>;

/** The meta scopes the tool picker offers, with what each allows (worker/agent-code/meta-names.ts). */
const META_SCOPE_CHOICES = [
  { scope: "read", allows: "list and read roles, orchestrations and execution status" },
  { scope: "run", allows: "start executions, approve steps, resume and re-run" },
  { scope: "write", allows: "create, change and delete roles and orchestrations" },
] as const;

export interface RoleDraft {
  name: string;
  description: string;
  basePrompt: string;
  needsCoding: boolean;
  needsTools: boolean;
  needsReasoning: boolean;
  minContext: string;
  maxContext: string;
  temperature: string;
  maxTokens: string;
  topP: string;
  model: string;
  meta: boolean;
  /** The parts of the meta API granted one by one ("meta:read" ...); plain `meta` above grants them all. */
  metaScopes: MetaScopeFlags;
  otherTools: string;
}

export const EMPTY_ROLE: RoleDraft = {
  name: "",
  description: "",
  basePrompt: "",
  needsCoding: false,
  needsTools: false,
  needsReasoning: false,
  minContext: "4096",
  maxContext: "128000",
  temperature: "0.7",
  maxTokens: "4096",
  topP: "",
  model: "",
  meta: false,
  metaScopes: { read: false, run: false, write: false },
  otherTools: "",
};

const PROMPT_MAX_CHARS = 100_000;

interface RoleFormProps {
  draft: RoleDraft;
  onChange: (draft: RoleDraft) => void;
  onSubmit: () => void;
  issues: readonly FieldIssue[];
  submitLabel: string;
  busy: boolean;
}

export function RoleForm({ draft, onChange, onSubmit, issues, submitLabel, busy }: RoleFormProps) {
  const set = <K extends keyof RoleDraft>(key: K, value: RoleDraft[K]) =>
    onChange({ ...draft, [key]: value });
  const text = (key: keyof RoleDraft) => ({
    value: String(draft[key]),
    onChange: (e: { target: { value: string } }) => set(key, e.target.value as never),
  });
  const at = (path: string) => issuesAt(issues, path);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <form className="role-form" onSubmit={submit} noValidate>
      <section className="card">
        <h2>Identity</h2>
        <Field label="Name" errors={at("name")} hint="Steps refer to a role by this name.">
          <input {...text("name")} required maxLength={100} />
        </Field>
        <Field label="Description" errors={at("description")}>
          <input {...text("description")} maxLength={2000} />
        </Field>
        <Field
          label="Base prompt"
          errors={at("basePrompt")}
          hint={`The system message the model sees at every step. ${draft.basePrompt.length.toLocaleString()} / ${PROMPT_MAX_CHARS.toLocaleString()} characters.`}
        >
          <textarea {...text("basePrompt")} rows={12} className="mono prompt-editor" spellCheck />
        </Field>
      </section>

      <section className="card">
        <h2>Capabilities</h2>
        <p className="muted">
          Used to pick the cheapest model that can do the job, unless a model is named below.
        </p>
        <fieldset className="checks">
          <legend className="visually-hidden">Capabilities</legend>
          {(
            [
              ["needsCoding", "Writes or reads code"],
              ["needsTools", "Calls tools"],
              ["needsReasoning", "Needs careful reasoning"],
            ] as const
          ).map(([key, label]) => (
            <label key={key} className="check">
              <input type="checkbox" checked={draft[key]} onChange={(e) => set(key, e.target.checked)} />
              {label}
            </label>
          ))}
        </fieldset>
        {at("capabilities").length || at("needsTools").length ? (
          <p className="field-error">{[...at("capabilities"), ...at("needsTools")].join("; ")}</p>
        ) : null}
      </section>

      <section className="card grid-2">
        <h2 className="span-all">Context limits (tokens)</h2>
        <Field
          label="Minimum context"
          errors={at("contextLimits.minContext")}
          hint="Models with a smaller window are not chosen."
        >
          <input type="number" inputMode="numeric" min={0} {...text("minContext")} />
        </Field>
        <Field label="Maximum context" errors={at("contextLimits.maxContext")}>
          <input type="number" inputMode="numeric" min={1} {...text("maxContext")} />
        </Field>
      </section>

      <section className="card grid-2">
        <h2 className="span-all">Hyperparameters</h2>
        <Field
          label="Temperature"
          errors={at("hyperparameters.temperature")}
          hint="0 (focused) to 2 (creative)."
        >
          <input type="number" inputMode="decimal" min={0} max={2} step={0.1} {...text("temperature")} />
        </Field>
        <Field label="Max tokens" errors={at("hyperparameters.maxTokens")} hint="Longest reply allowed.">
          <input type="number" inputMode="numeric" min={1} {...text("maxTokens")} />
        </Field>
        <Field
          label="Top P (optional)"
          errors={at("hyperparameters.topP")}
          hint="Between 0 and 1; empty uses the model's default."
        >
          <input type="number" inputMode="decimal" min={0} max={1} step={0.05} {...text("topP")} />
        </Field>
        <div className="span-all">
          <ModelPicker
            value={draft.model}
            onChange={(model) => set("model", model)}
            errors={at("hyperparameters.model")}
          />
        </div>
      </section>

      <section className="card">
        <h2>Tools</h2>
        <label className={`check privilege ${draft.meta ? "on" : ""}`}>
          <input type="checkbox" checked={draft.meta} onChange={(e) => set("meta", e.target.checked)} />
          <span>
            <strong>meta</strong> <span className="badge privilege-badge">Privileged</span>
            <br />
            <small>
              Lets this role&apos;s agent code create, change and delete roles and orchestrations and start
              executions in your team. Grant it only to roles you trust.
            </small>
          </span>
        </label>
        <fieldset
          className="meta-scopes"
          disabled={draft.meta}
          style={{ border: 0, padding: 0, margin: "0 0 1rem" }}
        >
          <legend>
            <small>Or only a part of the meta API:</small>
          </legend>
          {META_SCOPE_CHOICES.map(({ scope, allows }) => (
            <label key={scope} className="check">
              <input
                type="checkbox"
                checked={draft.meta || draft.metaScopes[scope]}
                onChange={(e) => set("metaScopes", { ...draft.metaScopes, [scope]: e.target.checked })}
              />
              <span>
                <strong>meta:{scope}</strong> <small>{allows}</small>
              </span>
            </label>
          ))}
        </fieldset>
        <Field
          label="Other tools"
          hint="Comma-separated lowercase names, e.g. search, calculator."
          errors={at("tools")}
        >
          <input {...text("otherTools")} autoComplete="off" />
        </Field>
      </section>

      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
