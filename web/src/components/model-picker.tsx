// The role form's model field: a choice among the tenant's models, then the platform's (each with its
// context window and price), or "automatic" (no model: Troupe picks the cheapest that fits). A value not
// in the catalog (typed by hand, or a model since removed) stays editable and is flagged.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { formatPrices, formatTokens } from "../lib/format";
import { CAPABILITIES } from "../lib/provider-draft";
import { type RouterOutputs, useTRPC } from "../lib/trpc";
import { Field } from "./field";

type CatalogModel = RouterOutputs["provider"]["models"][number];

/** The select's value for "type a model id"; no model ref can look like it (refs have no spaces). */
const OTHER = "other model";

const AUTOMATIC_HINT =
  "Troupe picks the cheapest model that has the capabilities above and fits the context limits, your providers' models first.";

function optionLabel(model: CatalogModel): string {
  return `${model.ref} — ${formatTokens(model.contextWindow)} context · ${formatPrices(model.priceIn, model.priceOut)}`;
}

function modelHint(model: CatalogModel): string {
  const capabilities = CAPABILITIES.filter(([key]) => model.capabilities[key]).map(([, label]) =>
    label.toLowerCase(),
  );
  const from =
    model.source === "tenant" ? `your provider “${model.provider}”` : `the platform (${model.provider})`;
  return `From ${from}: ${model.contextWindow.toLocaleString()}-token window, ${formatPrices(model.priceIn, model.priceOut)}${capabilities.length ? `; ${capabilities.join(", ")}` : ""}.`;
}

function Options({ models, label }: { models: CatalogModel[]; label: string }) {
  if (!models.length) return null;
  return (
    <optgroup label={label}>
      {models.map((model) => (
        <option key={model.ref} value={model.ref}>
          {optionLabel(model)}
        </option>
      ))}
    </optgroup>
  );
}

interface ModelPickerProps {
  value: string;
  onChange: (model: string) => void;
  errors: string[];
}

export function ModelPicker({ value, onChange, errors }: ModelPickerProps) {
  const trpc = useTRPC();
  const catalog = useQuery({ ...trpc.provider.models.queryOptions(), staleTime: 30_000 });
  const models = catalog.data ?? [];
  const chosen = models.find((model) => model.ref === value);
  const [typing, setTyping] = useState(false);
  // Until the catalog arrives a stored value is not "unknown", just not checked yet.
  const unknown = value.trim() !== "" && !chosen && catalog.isSuccess;
  const custom = typing || unknown;
  const selected = custom ? OTHER : value;
  const pick = (next: string) => {
    setTyping(next === OTHER);
    if (next !== OTHER) onChange(next);
  };
  return (
    <>
      <Field
        label="Model"
        errors={custom ? [] : errors}
        hint={chosen ? modelHint(chosen) : custom ? undefined : AUTOMATIC_HINT}
      >
        <select value={selected} onChange={(e) => pick(e.target.value)} data-model-picker="">
          <option value="">Automatic (cheapest that fits)</option>
          {catalog.isPending && value && !custom ? <option value={value}>{value}</option> : null}
          <Options models={models.filter((m) => m.source === "tenant")} label="Your providers" />
          <Options models={models.filter((m) => m.source === "platform")} label="Platform" />
          <option value={OTHER}>{unknown ? `${value} (not in the catalog)` : "Another model id…"}</option>
        </select>
      </Field>
      {catalog.error ? (
        <p className="field-error">
          The model catalog did not load ({catalog.error.message}); type a model id.
        </p>
      ) : null}
      {custom ? (
        <Field
          label="Model id"
          errors={errors}
          hint="“<provider>:<model id>” or a bare model id; saving checks that it exists."
        >
          <input
            value={value}
            onChange={(e) => onChange(e.target.value)}
            autoComplete="off"
            className="mono"
          />
        </Field>
      ) : null}
      {unknown ? (
        <p className="muted">
          <span className="badge model-flag">not in the catalog</span> Neither your providers nor the
          platform&apos;s catalog lists “{value}”; saving asks the server whether it can serve it.
        </p>
      ) : null}
    </>
  );
}
