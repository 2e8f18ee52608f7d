// A labelled form control with its hint and its errors, wired with aria-describedby and aria-invalid.
import { cloneElement, type ReactElement, useId } from "react";

interface FieldProps {
  label: string;
  hint?: string;
  errors?: readonly string[];
  children: ReactElement<Record<string, unknown>>;
  className?: string;
}

export function Field({ label, hint, errors = [], children, className }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, errors.length ? errorId : null].filter(Boolean).join(" ");
  const control = cloneElement(children, {
    id,
    "aria-invalid": errors.length > 0 ? true : undefined,
    "aria-describedby": describedBy || undefined,
  });
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {control}
      {hint ? (
        <small id={hintId} className="hint">
          {hint}
        </small>
      ) : null}
      {errors.length ? (
        <small id={errorId} className="field-error">
          {errors.join("; ")}
        </small>
      ) : null}
    </div>
  );
}
