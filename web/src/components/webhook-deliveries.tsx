// One webhook's deliveries, newest first: the event, the run, where it stands, and every attempt (status,
// duration, the first 1 KB of the answer, or why nothing came back), with a "Redeliver" button each.
// Refreshed every few seconds while shown, so a retry's outcome appears without reloading.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { formatDateTime, formatDuration } from "../lib/format";
import { Link } from "../lib/router";
import { type RouterOutputs, useTRPC, useTRPCClient } from "../lib/trpc";
import { usePagedList } from "../lib/use-paged-list";
import { ShowMore } from "./show-more";
import { EmptyState, ErrorNotice, Spinner } from "./ui";

/** While the list is shown it is read again this often (retries land without a reload). */
const REFRESH_MS = 3_000;

type Delivery = RouterOutputs["webhook"]["deliveries"]["items"][number];

const DELIVERY_STATES: Record<Delivery["status"], { label: string; className: string }> = {
  pending: { label: "Retrying", className: "status-running" },
  delivered: { label: "Delivered", className: "status-completed" },
  failed: { label: "Failed", className: "status-failed" },
};

export function WebhookDeliveries({ webhookId }: { webhookId: string }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const pathKey = trpc.webhook.deliveries.pathKey();
  const deliveries = usePagedList([...pathKey, { webhookId }], (cursor) =>
    client.webhook.deliveries.query(cursor ? { webhookId, cursor } : { webhookId }),
  );
  const { refetch } = deliveries;
  useEffect(() => {
    const timer = setInterval(() => void refetch(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refetch]);
  const redeliver = useMutation(
    trpc.webhook.redeliver.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: pathKey }),
    }),
  );
  return (
    <section aria-labelledby={`deliveries-${webhookId}`} className="card">
      <div className="actions">
        <h3 id={`deliveries-${webhookId}`}>Deliveries</h3>
        <button
          type="button"
          className="button small"
          onClick={() => void deliveries.refetch()}
          disabled={deliveries.isFetching}
        >
          Refresh
        </button>
      </div>
      {deliveries.isPending ? <Spinner /> : null}
      <ErrorNotice error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      <ErrorNotice error={redeliver.error} title="Redelivery failed" />
      {deliveries.items?.length === 0 ? (
        <EmptyState title="No deliveries yet">
          <p>Each event this webhook hears is listed here with every attempt.</p>
        </EmptyState>
      ) : null}
      {deliveries.items?.map((delivery) => (
        <article key={delivery.id} className="delivery" data-delivery-id={delivery.id}>
          <p>
            <strong>{delivery.eventType}</strong>{" "}
            <span
              className={`badge ${DELIVERY_STATES[delivery.status].className}`}
              data-status={delivery.status}
            >
              {DELIVERY_STATES[delivery.status].label}
            </span>{" "}
            for run <Link to={`/executions/${delivery.executionId}`}>{delivery.executionId}</Link>,{" "}
            {formatDateTime(delivery.createdAt)}
            {delivery.nextAttemptAt ? `; next attempt ${formatDateTime(delivery.nextAttemptAt)}` : null}{" "}
            <button
              type="button"
              className="button small"
              disabled={redeliver.isPending}
              onClick={() => redeliver.mutate({ deliveryId: delivery.id })}
            >
              Redeliver<span className="visually-hidden"> {delivery.id}</span>
            </button>
          </p>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Attempts of delivery {delivery.id}</caption>
              <thead>
                <tr>
                  <th scope="col">Attempt</th>
                  <th scope="col">When</th>
                  <th scope="col">Status</th>
                  <th scope="col">Took</th>
                  <th scope="col">Answer or error</th>
                </tr>
              </thead>
              <tbody>
                {delivery.attempts.map((attempt) => (
                  <tr key={attempt.attempt} data-attempt={attempt.attempt}>
                    <td>{attempt.attempt}</td>
                    <td>{formatDateTime(attempt.at)}</td>
                    <td className="mono">{attempt.statusCode ?? "—"}</td>
                    <td>{formatDuration(attempt.durationMs)}</td>
                    <td>
                      {attempt.error ? <div className="field-error">{attempt.error}</div> : null}
                      {attempt.responseExcerpt ? (
                        <div>
                          <code className="excerpt">{attempt.responseExcerpt}</code>
                        </div>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </article>
      ))}
      <ShowMore list={deliveries} what="deliveries" />
    </section>
  );
}
