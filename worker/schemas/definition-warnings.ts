// Warnings about a structurally valid orchestration, at every depth: roles that do not exist (yet),
// orchestration steps naming an orchestration that does not exist, is inactive or lacks that version,
// and context keys that no step produces. Warnings never block saving, because what they name may be
// created later; starting a run refuses missing roles, and a child that cannot start fails its step.
import { allSteps, type DefinitionPath, type StepDefinition } from "../../durable-objects/engine/definition";
import { parsePath, parseTemplate, stringLeaves } from "../../durable-objects/engine/templates";
import { type FieldIssue, formatPath } from "./common";
import type { OrchestrationDefinition } from "./orchestration";

/** What an orchestration step's target is checked against: the tenant's orchestrations as stored. */
export interface OrchestrationRef {
  id: string;
  name: string;
  version: number;
  isActive: boolean;
}

/** The target of an orchestration step, found as a run would find it: by id first, then by name. */
function targetOf(reference: string, orchestrations: readonly OrchestrationRef[]) {
  return orchestrations.find((o) => o.id === reference) ?? orchestrations.find((o) => o.name === reference);
}

function referenceWarning(
  step: Extract<StepDefinition, { stepType: "orchestration" }>,
  at: DefinitionPath,
  orchestrations: readonly OrchestrationRef[],
): FieldIssue | undefined {
  const target = targetOf(step.orchestrationId, orchestrations);
  const shown = `orchestration "${step.orchestrationId}"`;
  if (!target)
    return {
      path: formatPath([...at, "orchestrationId"]),
      message: `${shown} does not exist yet; create it before executing this orchestration, or the step fails`,
    };
  if (!target.isActive)
    return {
      path: formatPath([...at, "orchestrationId"]),
      message: `${shown} is inactive; the step fails unless it is active (isActive: true) when it runs`,
    };
  if (step.version !== undefined && step.version > target.version)
    return {
      path: formatPath([...at, "version"]),
      message: `${shown} has no version ${step.version} yet (it is at version ${target.version})`,
    };
  return undefined;
}

/**
 * `roleNames`: the tenant's roles. `orchestrations`: the tenant's orchestrations; without it (the
 * dashboard's local check) orchestration steps are not checked.
 */
export function definitionWarnings(
  definition: Pick<OrchestrationDefinition, "steps">,
  roleNames: ReadonlySet<string>,
  orchestrations?: readonly OrchestrationRef[],
): FieldIssue[] {
  const warnings: FieldIssue[] = [];
  const steps = [...allSteps(definition.steps)];
  const produced = new Set<string>(["input"]);
  for (const { step } of steps) {
    produced.add(step.name);
    for (const key of Object.keys(step.outputMapping ?? {})) produced.add(key);
  }
  const checkKey = (path: DefinitionPath, key: string | number | undefined, source: string) => {
    if (typeof key === "string" && !produced.has(key)) {
      warnings.push({
        path: formatPath(path),
        message: `${source} refers to context "${key}", which no step name or outputMapping key produces; it will render empty`,
      });
    }
  };
  const checkTemplates = (value: unknown, at: DefinitionPath) => {
    for (const [leafPath, text] of stringLeaves(value)) {
      const parsed = parseTemplate(text, ["context", "output", "item", "index", "iteration"]);
      if (!parsed.ok) continue;
      for (const part of parsed.value) {
        if (part.kind === "ref" && part.root === "context")
          checkKey([...at, ...leafPath], part.path[0], `{{${part.source}}}`);
      }
    }
  };
  const checkField = (field: string, at: DefinitionPath) => {
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
    if (step.stepType === "orchestration" && orchestrations) {
      const warning = referenceWarning(step, at, orchestrations);
      if (warning) warnings.push(warning);
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

/** Whether a definition has an orchestration step anywhere (so its targets need looking up). */
export function hasOrchestrationSteps(steps: readonly StepDefinition[]): boolean {
  for (const { step } of allSteps(steps)) if (step.stepType === "orchestration") return true;
  return false;
}
