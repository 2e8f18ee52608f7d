// The steps on show, as a tree: top-level steps, and under a loop or forEach the steps of the iteration or
// item picked with one chip per iteration / item (coloured by its status) to pick another; under a branch
// the arm it took. Picking a step opens its log.
import { KIND_LABELS, kindOf } from "../lib/flow-steps";
import { type Row, type RunView, shownSlot, slotStatuses } from "../lib/run-view";
import { StatusBadge } from "./ui";

/** More chips than this scroll inside their box: a forEach of 1,000 items stays one screen tall. */
function SlotChips({
  row,
  run,
  onPickSlot,
}: {
  row: Row;
  run: RunView;
  onPickSlot: (key: string, slot: number) => void;
}) {
  const log = row.live.log;
  const statuses = slotStatuses(log);
  if (statuses.length === 0) return null;
  const shown = shownSlot(row.key, log, run);
  const what = row.step.stepType === "loop" ? "Iteration" : "Item";
  return (
    <fieldset className="slot-chips">
      <legend className="visually-hidden">{`${what}s of ${row.step.name}`}</legend>
      {statuses.map((status, slot) => (
        <button
          // Slots have no identity beyond their position, and never reorder.
          // biome-ignore lint/suspicious/noArrayIndexKey: see above.
          key={slot}
          type="button"
          className={`slot-chip status-${status}`}
          aria-pressed={slot === shown}
          aria-label={`${what} ${slot + 1}: ${status}`}
          title={`${what} ${slot + 1} (${row.step.stepType === "loop" ? "{{iteration}}" : "{{index}}"} = ${slot}): ${status}`}
          onClick={() => onPickSlot(row.key, slot)}
        >
          {slot + 1}
        </button>
      ))}
    </fieldset>
  );
}

export function StepPicker({
  rows,
  run,
  selectedKey,
  onSelect,
  onPickSlot,
  labelledBy,
}: {
  rows: readonly Row[];
  run: RunView;
  selectedKey: string | undefined;
  onSelect: (key: string) => void;
  onPickSlot: (key: string, slot: number) => void;
  labelledBy: string;
}) {
  return (
    <nav aria-labelledby={labelledBy} className="step-picker">
      <ul>
        {rows.map((row) => {
          const status = row.live.waitingForRetry ? "waiting_retry" : row.live.status;
          const kind = kindOf(row.step);
          return (
            <li key={row.key} style={{ marginLeft: `${row.depth * 0.9}rem` }}>
              <button
                type="button"
                className="step-pick"
                aria-pressed={selectedKey === row.key}
                onClick={() => onSelect(row.key)}
                data-step={row.step.name}
              >
                <span className="step-pick-name">
                  {kind === "agent" ? null : <span className="kind-tag">{KIND_LABELS[kind]}</span>}
                  {row.step.name}
                </span>
                <StatusBadge status={status} />
              </button>
              {row.step.steps ? <SlotChips row={row} run={run} onPickSlot={onPickSlot} /> : null}
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
