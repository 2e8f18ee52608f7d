// Warnings about a structurally valid orchestration: roles that do not exist (yet) and context keys that
// no step produces, at every depth. Warnings never block saving; the engine refuses to start a run with
// missing roles.
import { allSteps } from "../../durable-objects/engine/definition";
import { parsePath, parseTemplate, stringLeaves } from "../../durable-objects/engine/templates";
import { type FieldIssue, formatPath } from "./common";
import type { OrchestrationDefinition } from "./orchestration";

export function definitionWarnings(
  definition: OrchestrationDefinition,
  roleNames: ReadonlySet<string>,
): FieldIssue[] {
  const warnings: FieldIssue[] = [];
  const steps = [...allSteps(definition.steps)];
  const produced = new Set<string>(["input"]);
  for (const { step } of steps) {
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
  const checkTemplates = (value: unknown, at: (string | number)[]) => {
    for (const [leafPath, text] of stringLeaves(value)) {
      const parsed = parseTemplate(text, ["context", "output", "item", "index", "iteration"]);
      if (!parsed.ok) continue;
      for (const part of parsed.value) {
        if (part.kind === "ref" && part.root === "context")
          checkKey([...at, ...leafPath], part.path[0], `{{${part.source}}}`);
      }
    }
  };
  const checkField = (field: string, at: (string | number)[]) => {
    const path = parsePath(field, true);
    if (!path.ok) return;
    const segments = path.value[0] === "context" ? path.value.slice(1) : path.value;
    // item / index / iteration inside a body are the scope's (definition-rules.ts checks where).
    if (["item", "index", "iteration"].includes(String(segments[0])) && !produced.has(String(segments[0])))
      return;
    checkKey(at, segments[0], `"${field}"`);
  };

  for (const { step, path: at } of steps) {
    if ((step.stepType ?? "agent") === "agent" && "roleName" in step && step.roleName !== undefined) {
      if (!roleNames.has(step.roleName))
        warnings.push({
          path: formatPath([...at, "roleName"]),
          message: `role "${step.roleName}" does not exist yet; create it before executing this orchestration`,
        });
    }
    if ("inputMapping" in step) checkTemplates(step.inputMapping ?? {}, [...at, "inputMapping"]);
    checkTemplates(step.outputMapping ?? {}, [...at, "outputMapping"]);
    if (step.stepType === "forEach" && typeof step.items === "string")
      checkTemplates(step.items, [...at, "items"]);
    if (step.stepType === "approval" && step.message) checkTemplates(step.message, [...at, "message"]);
    if (step.stepType === "sleep" && step.until) checkTemplates(step.until, [...at, "until"]);
    if (step.condition) checkField(step.condition.field, [...at, "condition", "field"]);
    if (step.stepType === "loop" && step.until) checkField(step.until.field, [...at, "until", "field"]);
    if (step.stepType === "branch")
      step.branches.forEach((arm, i) => {
        checkField(arm.when.field, [...at, "branches", i, "when", "field"]);
      });
  }
  return warnings;
}
