// Rules over a whole definition tree, checked at save time after each step's own shape: step names are
// unique at every depth (the context is keyed by them), the tree stays within its size and depth, scope
// templates ({{item}}, {{index}}, {{iteration}}) appear only inside the body that binds them, and a
// template or condition never names a step that cannot have run before it. Two rules keep a run within
// its sizes and its CPU: no template is the whole `{{context}}` (a mapping of it grows the context
// fourfold each step), and a `matches` pattern compiles in RE2, the linear-time engine runs use.
import type { z } from "zod";
import { compilePattern } from "../../durable-objects/engine/conditions";
import {
  bodiesOf,
  bodyPathsOf,
  type DefinitionPath,
  type StepCondition,
  type StepDefinition,
} from "../../durable-objects/engine/definition";
import { NESTING_MAX_DEPTH, STEPS_MAX } from "../../durable-objects/engine/limits";
import { stagesOf } from "../../durable-objects/engine/plan";
import { parsePath, parseTemplate, stringLeaves } from "../../durable-objects/engine/templates";
import { formatPath } from "./common";

type Issue = { path: DefinitionPath; message: string };

interface Scope {
  /** Step names whose output may be in the context when a step here starts. */
  visible: ReadonlySet<string>;
  forEach: boolean;
  loop: boolean;
}

/** Names a finished step leaves in the context: its own, and its body's (a forEach keeps its body's to each item). */
function namesLeftBy(step: StepDefinition): string[] {
  if (step.stepType === "forEach") return [step.name];
  return [step.name, ...bodiesOf(step).flatMap((body) => body.flatMap(namesLeftBy))];
}

class RuleCheck {
  readonly issues: Issue[] = [];
  /** Every step name in the tree, with where it is and the forEach that hides it from the outside. */
  readonly names = new Map<string, { path: DefinitionPath; hiddenIn?: string }>();
  /** Context keys some step writes: step names and outputMapping keys. */
  readonly produced = new Set<string>(["input"]);

  private count = 0;

  constructor(steps: readonly StepDefinition[]) {
    this.collect(steps, ["steps"], 0, undefined);
    // More than STEPS_MAX at the top level is already the steps array's own issue.
    if (this.count > STEPS_MAX && steps.length <= STEPS_MAX)
      this.issues.push({
        path: ["steps"],
        message: `has ${this.count} steps counting nested ones; the limit is ${STEPS_MAX}: move some into their own orchestration and run it with an orchestration step`,
      });
  }

  private collect(steps: readonly StepDefinition[], path: DefinitionPath, depth: number, hiddenIn?: string) {
    for (const [index, step] of steps.entries()) {
      const at = [...path, index];
      this.count += 1;
      const first = this.names.get(step.name);
      if (first)
        this.issues.push({
          path: [...at, "name"],
          message: `step name "${step.name}" is already used at ${formatPath(first.path)}; names are context keys, so they must be unique at every depth`,
        });
      else this.names.set(step.name, { path: at, ...(hiddenIn ? { hiddenIn } : {}) });
      this.produced.add(step.name);
      for (const key of Object.keys(step.outputMapping ?? {})) this.produced.add(key);
      const bodies = bodiesOf(step);
      if (bodies.length > 0 && depth >= NESTING_MAX_DEPTH) {
        // Reported once, at the container whose body would be too deep; its body is not looked into.
        this.issues.push({
          path: at,
          message: `its body would nest ${depth + 1} deep; bodies nest at most ${NESTING_MAX_DEPTH} deep: flatten it, or move it into its own orchestration and run that with an orchestration step`,
        });
        continue;
      }
      const inner = step.stepType === "forEach" ? step.name : hiddenIn;
      const paths = bodyPathsOf(step);
      bodies.forEach((body, b) => {
        this.collect(body, [...at, ...(paths[b] ?? [])], depth + 1, inner);
      });
    }
  }

  block(steps: readonly StepDefinition[], path: DefinitionPath, scope: Scope): void {
    const visible = new Set(scope.visible);
    for (const stage of stagesOf(steps)) {
      const here: Scope = { ...scope, visible: new Set(visible) };
      for (const index of stage) {
        const step = steps[index];
        if (step) this.step(step, [...path, index], here);
      }
      for (const index of stage)
        for (const name of namesLeftBy(steps[index] as StepDefinition)) visible.add(name);
    }
  }

  private step(step: StepDefinition, path: DefinitionPath, scope: Scope): void {
    for (const [condition, at] of conditionsOf(step, path)) this.pattern(condition, at);
    if (step.condition) this.condition(step.condition.field, [...path, "condition", "field"], scope);
    const input = "inputMapping" in step ? step.inputMapping : undefined;
    this.templates(input ?? {}, [...path, "inputMapping"], scope);
    if (step.stepType === "approval" && step.message !== undefined)
      this.templates(step.message, [...path, "message"], scope);
    if (step.stepType === "sleep" && step.until !== undefined)
      this.templates(step.until, [...path, "until"], scope);
    if (step.stepType === "forEach" && typeof step.items === "string")
      this.templates(step.items, [...path, "items"], scope);
    const after = new Set([...scope.visible, ...namesLeftBy(step)]);
    // A container's own outputMapping and condition run outside its body: no {{iteration}} / {{item}} of its own.
    const finished: Scope = { ...scope, visible: after };
    this.templates(step.outputMapping ?? {}, [...path, "outputMapping"], finished, true);
    switch (step.stepType) {
      case "loop": {
        // A body step may read what any body step wrote in an earlier iteration.
        const earlier = new Set([...scope.visible, ...step.steps.flatMap(namesLeftBy)]);
        this.block(step.steps, [...path, "steps"], { ...scope, visible: earlier, loop: true });
        // `until` is checked at the end of each iteration, so it may read {{iteration}}.
        if (step.until)
          this.condition(step.until.field, [...path, "until", "field"], { ...finished, loop: true });
        return;
      }
      case "forEach":
        this.block(step.steps, [...path, "steps"], { ...scope, forEach: true });
        return;
      case "branch":
        step.branches.forEach((arm, i) => {
          this.condition(arm.when.field, [...path, "branches", i, "when", "field"], scope);
          this.block(arm.steps, [...path, "branches", i, "steps"], scope);
        });
        if (step.otherwise) this.block(step.otherwise, [...path, "otherwise"], scope);
        return;
      default:
        return;
    }
  }

  private templates(value: unknown, path: DefinitionPath, scope: Scope, withOutput = false): void {
    const roots = ["context", "item", "index", "iteration", ...(withOutput ? ["output"] : [])];
    for (const [leaf, text] of stringLeaves(value)) {
      const parsed = parseTemplate(text, roots);
      if (!parsed.ok) continue; // reported by the step's own schema
      let whole = false;
      for (const part of parsed.value) {
        if (part.kind !== "ref") continue;
        const at = [...path, ...leaf];
        if (part.root === "context" && part.path.length === 0) {
          // Once per template, however often it repeats the whole context.
          if (!whole) this.wholeContext(part.source, at);
          whole = true;
        } else if (part.root === "context") this.reference(part.path[0], `{{${part.source}}}`, at, scope);
        else if (part.root !== "output") this.scopeRoot(part.root, `{{${part.source}}}`, at, scope);
      }
    }
  }

  private condition(field: string, path: DefinitionPath, scope: Scope): void {
    const parsed = parsePath(field, true);
    if (!parsed.ok) return;
    const [first, second] = parsed.value;
    if (first === "context" && !this.names.has("context")) {
      this.reference(second, `"${field}"`, path, scope);
      return;
    }
    // Inside the body that binds them, item / index / iteration are the scope's; elsewhere a context key.
    if (first === "item" || first === "index" || first === "iteration") {
      const bound = first === "iteration" ? scope.loop : scope.forEach;
      if (!bound && !this.produced.has(first)) {
        const where = first === "iteration" ? "a loop" : "a forEach";
        this.issues.push({
          path,
          message: `"${field}" reads ${first}, which is only available inside ${where} body (no step or outputMapping key is named "${first}")`,
        });
      }
      if (bound || !this.produced.has(first)) return;
    }
    this.reference(first, `"${field}"`, path, scope);
  }

  /** `{{context}}` is every value the run has produced: copied into a mapping, it doubles the run each step. */
  private wholeContext(source: string, path: DefinitionPath): void {
    this.issues.push({
      path,
      message: `{{${source}}} is the whole context, which grows with every step (and mapped back into it, grows the run without bound); name the values the step needs, such as {{context.input}} or {{context['Step Name']}}`,
    });
  }

  /** A `matches` pattern must compile in RE2: runs match with it, in time linear in the text. */
  private pattern(condition: StepCondition, path: DefinitionPath): void {
    if (condition.operator !== "matches" || typeof condition.value !== "string") return;
    const compiled = compilePattern(condition.value);
    if (!compiled.ok) this.issues.push({ path: [...path, "value"], message: compiled.error });
  }

  private scopeRoot(root: string, source: string, path: DefinitionPath, scope: Scope): void {
    const where =
      root === "iteration" ? (scope.loop ? undefined : "a loop") : scope.forEach ? undefined : "a forEach";
    if (!where) return;
    const prefix = source === `{{${root}}}` ? "" : `${source}: `;
    this.issues.push({ path, message: `${prefix}{{${root}}} is only available inside ${where} body` });
  }

  /** A context key that is a step name must name a step that can have run before this point. */
  private reference(
    key: string | number | undefined,
    source: string,
    path: DefinitionPath,
    scope: Scope,
  ): void {
    if (typeof key !== "string" || scope.visible.has(key)) return;
    const named = this.names.get(key);
    if (!named) return; // not a step: an outputMapping key or a typo, reported as a warning
    const why = named.hiddenIn
      ? `it runs once per item inside forEach "${named.hiddenIn}"; read the forEach's output {{context['${named.hiddenIn}']}} instead`
      : "it runs later, alongside this step, or on another branch";
    this.issues.push({
      path,
      message: `${source} names step "${key}", which cannot have run before this point: ${why}`,
    });
  }
}

/** A step's own conditions (its `condition`, a loop's `until`, each branch arm's `when`) with their paths. */
function conditionsOf(step: StepDefinition, path: DefinitionPath): [StepCondition, DefinitionPath][] {
  const found: [StepCondition, DefinitionPath][] = [];
  if (step.condition) found.push([step.condition, [...path, "condition"]]);
  if (step.stepType === "loop" && step.until) found.push([step.until, [...path, "until"]]);
  if (step.stepType === "branch")
    step.branches.forEach((arm, i) => {
      found.push([arm.when, [...path, "branches", i, "when"]]);
    });
  return found;
}

/**
 * Adds an issue to `ctx` (the refinement of the `steps` array, so paths drop their leading "steps") for
 * each rule the tree breaks; `steps` have passed their own schemas.
 */
export function checkDefinitionRules(steps: readonly StepDefinition[], ctx: z.RefinementCtx): void {
  const check = new RuleCheck(steps);
  check.block(steps, ["steps"], { visible: new Set(["input"]), forEach: false, loop: false });
  for (const issue of check.issues)
    ctx.addIssue({ code: "custom", path: issue.path.slice(1), message: issue.message });
}
