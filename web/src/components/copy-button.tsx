// Copies text to the clipboard and says so (for keys shown once, ids, JSON); CopyField shows the text in a
// read-only field (selected on focus) beside the button, as keys, secrets and URLs are shown.
import { type ReactNode, useState } from "react";

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
    window.setTimeout(() => setState("idle"), 2500);
  };
  return (
    <button type="button" className="button small" onClick={() => void copy()} aria-live="polite">
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select and copy by hand" : label}
    </button>
  );
}

/** A read-only, monospaced field with `value` and a copy button; `children` follow (a Done button). */
export function CopyField({
  value,
  label,
  copyLabel,
  children,
}: {
  value: string;
  /** The field's accessible name. */
  label: string;
  copyLabel: string;
  children?: ReactNode;
}) {
  return (
    <div className="secret-row">
      <input readOnly value={value} aria-label={label} className="mono" onFocus={(e) => e.target.select()} />
      <CopyButton text={value} label={copyLabel} />
      {children}
    </div>
  );
}
