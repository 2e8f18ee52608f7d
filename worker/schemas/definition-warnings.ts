// Warnings about a structurally valid orchestration: roles that do not exist (yet) and context keys that
// no step produces. Warnings never block saving; the engine refuses to start a run with missing roles.
import { parsePath, parseTemplate, stringLeaves } from "../../durable-objects/engine/templates";
import { type FieldIssue, formatPath } from "./common";
import type { OrchestrationDefinition } from "./orchestration";

export function definitionWarnings(
  definition: OrchestrationDefinition,
  roleNames: ReadonlySet<string>,
): FieldIssue[] {
  const warnings: FieldIssue[] = [];
  const produced = new Set<string>(["input"]);
  for (const step of definition.steps) {
    produced.add(step.name);
    for (const key of Object.keys(step.outputMapping ?? {})) produced.add(key);
  }
  const checkKey = (path: (string | number)[], key: string | number | undefined, source: string) => {
    if (typeof key === "string" && !produced.has(key)) {
      warnings.push({
        path: formatPath(path),
        message: `${source} refers to context "${key}", which no step name or outputMapping key produces; it will render empty`,
      });
    }
  };

  definition.steps.forEach((step, index) => {
    const at = ["steps", index];
    if (step.roleName !== undefined && !roleNames.has(step.roleName)) {
      warnings.push({
        path: formatPath([...at, "roleName"]),
        message: `role "${step.roleName}" does not exist yet; create it before executing this orchestration`,
      });
    }
    for (const [leafPath, text] of stringLeaves(step.inputMapping ?? {})) {
      const parsed = parseTemplate(text, ["context"]);
      if (!parsed.ok) continue;
      for (const part of parsed.value) {
        if (part.kind === "ref")
          checkKey([...at, "inputMapping", ...leafPath], part.path[0], `{{${part.source}}}`);
      }
    }
    for (const [key, text] of Object.entries(step.outputMapping ?? {})) {
      const parsed = parseTemplate(text, ["context", "output"]);
      if (!parsed.ok) continue;
      for (const part of parsed.value) {
        if (part.kind === "ref" && part.root === "context") {
          checkKey([...at, "outputMapping", key], part.path[0], `{{${part.source}}}`);
        }
      }
    }
    if (step.condition) {
      const path = parsePath(step.condition.field, true);
      if (path.ok) {
        const segments = path.value[0] === "context" ? path.value.slice(1) : path.value;
        checkKey([...at, "condition", "field"], segments[0], `"${step.condition.field}"`);
      }
    }
  });
  return warnings;
}
