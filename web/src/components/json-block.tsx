// Shows a JSON value (or text) readably, with a copy button; long values scroll instead of stretching.
import { formatJson } from "../lib/format";
import { CopyButton } from "./copy-button";

export function JsonBlock({
  value,
  label,
  empty = "Nothing yet.",
}: {
  value: unknown;
  label: string;
  empty?: string;
}) {
  const text = formatJson(value);
  if (value === null || value === undefined || text === "") return <p className="muted">{empty}</p>;
  return (
    <div className="json-block">
      <div className="json-block-bar">
        <span className="muted">{label}</span>
        <CopyButton text={text} />
      </div>
      <pre>{text}</pre>
    </div>
  );
}
