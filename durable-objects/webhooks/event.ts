// The events an execution tells its team's webhooks about, built from a decision in the same commit that
// owes them (execution/outbox.ts). Pure: no storage, no clock (times come from the run's own records).
// The event id is stable (the same decision always gives the same id), so a repeated hand-off to the
// dispatcher is recognised as the same event. The body is a status summary, bounded in size.

import type { WebhookEventType } from "../../worker/schemas/webhook";
import { isTerminal } from "../engine/status";
import type { JsonValue, RunHeader, StepInstance } from "../engine/types";

/** An output whose JSON is longer than this is not embedded; `outputTruncated` and a preview say so. */
export const WEBHOOK_OUTPUT_MAX_CHARS = 16_384;
/** How much of a truncated output's JSON the body carries as `outputPreview`. */
export const WEBHOOK_OUTPUT_PREVIEW_CHARS = 2_048;
/** Error and approval message texts are clipped to this. */
const TEXT_MAX_CHARS = 4_096;

export interface WebhookEventData {
  executionId: string;
  orchestrationId: string;
  orchestrationName: string;
  status: RunHeader["status"];
  output?: JsonValue;
  /** Set when the output was too large to embed (read it with getExecutionStatus). */
  outputTruncated?: true;
  outputPreview?: string;
  error?: string;
  usage?: { tokensIn: number; tokensOut: number; costUsd: number; calls: number };
  startedAt: string | null;
  finishedAt: string | null;
  /** approval.requested: the waiting step, its instance, the message and when it times out. */
  step?: { name: string; instanceId: string; deadline: string };
  message?: string | null;
}

/** PERSISTED CONTRACT v1 (an execution's outbox entry `notify_webhooks`, and the body POSTed). */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: WebhookEventData;
}

export interface EventSource {
  executionId: string;
  orchestrationId: string;
  orchestrationName: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const clip = (text: string) => (text.length > TEXT_MAX_CHARS ? `${text.slice(0, TEXT_MAX_CHARS)}…` : text);

function summary(source: EventSource, header: RunHeader): WebhookEventData {
  const data: WebhookEventData = {
    executionId: source.executionId,
    orchestrationId: source.orchestrationId,
    orchestrationName: source.orchestrationName,
    status: header.status,
    startedAt: iso(header.startedAt),
    finishedAt: iso(header.finishedAt),
  };
  if (header.output !== undefined) {
    const json = JSON.stringify(header.output);
    if (json.length <= WEBHOOK_OUTPUT_MAX_CHARS) data.output = header.output;
    else {
      data.outputTruncated = true;
      data.outputPreview = json.slice(0, WEBHOOK_OUTPUT_PREVIEW_CHARS);
    }
  }
  if (header.error !== undefined) data.error = clip(header.error);
  if (header.usage) {
    const { tokensIn, tokensOut, costUsd, calls } = header.usage;
    data.usage = { tokensIn, tokensOut, costUsd, calls };
  }
  return data;
}

/** The run ended (completed, failed or cancelled): the event, its id naming the end (a resumed run ends again). */
export function endEvent(source: EventSource, header: RunHeader): WebhookEvent | undefined {
  if (!isTerminal(header.status)) return undefined;
  const type = `execution.${header.status}` as WebhookEventType;
  return {
    id: `evt_${source.executionId}_${header.status}_${header.resumes ?? 0}`,
    type,
    createdAt: new Date(header.finishedAt ?? header.createdAt).toISOString(),
    data: summary(source, header),
  };
}

/** Approval steps that began waiting in this decision (not the ones already waiting before it). */
export function approvalEvents(
  source: EventSource,
  header: RunHeader,
  changed: readonly StepInstance[],
  before: ReadonlyMap<string, StepInstance>,
): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  for (const instance of changed) {
    const wait = instance.wait;
    if (wait?.kind !== "approval") continue;
    const previous = before.get(instance.id)?.wait;
    if (previous?.kind === "approval" && previous.since === wait.since) continue;
    events.push({
      id: `evt_${source.executionId}_approval_${instance.id}_${wait.since}`,
      type: "approval.requested",
      createdAt: new Date(wait.since).toISOString(),
      data: {
        ...summary(source, header),
        step: {
          name: instance.name,
          instanceId: instance.id,
          deadline: new Date(wait.deadline).toISOString(),
        },
        message: wait.message === null ? null : clip(wait.message),
      },
    });
  }
  return events;
}
