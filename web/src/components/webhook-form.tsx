// The fields of a webhook, for creating one and editing one: its URL, the events it hears, and an
// optional orchestration whose runs alone it hears. Errors from the API show under their field.
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { issuesAt } from "../lib/errors";
import { useTRPC } from "../lib/trpc";
import { LARGEST_PAGE } from "../lib/use-paged-list";
import { Field } from "./field";

/** worker/schemas/webhook.ts's WEBHOOK_EVENTS with what each means; restated so the bundle stays small. */
export const EVENT_CHOICES = [
  { event: "execution.completed", means: "a run completed" },
  { event: "execution.failed", means: "a run failed" },
  { event: "execution.cancelled", means: "a run was cancelled" },
  { event: "approval.requested", means: "an approval step is waiting for a decision" },
] as const;
export type WebhookEventName = (typeof EVENT_CHOICES)[number]["event"];

export interface WebhookDraft {
  url: string;
  events: WebhookEventName[];
  orchestrationId: string;
}

interface WebhookFormProps {
  initial: WebhookDraft;
  submitLabel: string;
  busy: boolean;
  issues: readonly { path: string; message: string }[];
  onSubmit: (draft: WebhookDraft) => void;
  onCancel?: () => void;
}

export function WebhookForm({ initial, submitLabel, busy, issues, onSubmit, onCancel }: WebhookFormProps) {
  const trpc = useTRPC();
  const orchestrations = useQuery(trpc.orchestrationManagement.list.queryOptions(LARGEST_PAGE));
  const [draft, setDraft] = useState<WebhookDraft>(initial);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(draft);
  };
  const toggle = (name: WebhookEventName, on: boolean) =>
    setDraft({
      ...draft,
      events: EVENT_CHOICES.map((c) => c.event).filter((e) => (e === name ? on : draft.events.includes(e))),
    });
  return (
    <form className="inline-form" onSubmit={submit}>
      <Field
        label="Endpoint URL"
        hint="Troupe POSTs JSON here; https only in production."
        errors={issuesAt(issues, "url")}
      >
        <input
          type="url"
          value={draft.url}
          onChange={(e) => setDraft({ ...draft, url: e.target.value })}
          required
          maxLength={2000}
          placeholder="https://example.com/hooks/troupe"
        />
      </Field>
      <Field
        label="Orchestration"
        hint="Only this orchestration's runs, or every run."
        errors={issuesAt(issues, "orchestrationId")}
      >
        <select
          value={draft.orchestrationId}
          onChange={(e) => setDraft({ ...draft, orchestrationId: e.target.value })}
        >
          <option value="">Every orchestration</option>
          {orchestrations.data?.items.map((orchestration) => (
            <option key={orchestration.id} value={orchestration.id}>
              {orchestration.name}
            </option>
          ))}
        </select>
      </Field>
      <fieldset className="span-all">
        <legend>Events: when to POST</legend>
        {EVENT_CHOICES.map(({ event, means }) => (
          <label key={event} className="check">
            <input
              type="checkbox"
              checked={draft.events.includes(event)}
              onChange={(e) => toggle(event, e.target.checked)}
            />
            <span>
              <strong>{event}</strong> <small>{means}</small>
            </span>
          </label>
        ))}
        {issuesAt(issues, "events").map((message) => (
          <small key={message} className="field-error">
            {message}
          </small>
        ))}
      </fieldset>
      <div className="actions span-all">
        <button
          type="submit"
          className="button primary"
          disabled={busy || !draft.url.trim() || draft.events.length === 0}
        >
          {busy ? "Saving…" : submitLabel}
        </button>
        {onCancel ? (
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
