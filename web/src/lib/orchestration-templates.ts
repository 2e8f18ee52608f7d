// Starting points for a new orchestration: the usage guide's examples, from the module the tests use.
import { example2, example3, example4 } from "../../../worker/schemas/guide-examples";

export interface OrchestrationTemplate {
  id: string;
  label: string;
  definition: Record<string, unknown>;
}

export const TEMPLATES: OrchestrationTemplate[] = [
  {
    id: "planner-executor-reviewer",
    label: "Planner-Executor-Reviewer (guide example 2)",
    definition: { ...example2 },
  },
  { id: "map-reduce", label: "Map-Reduce research (guide example 3)", definition: { ...example3 } },
  { id: "self-correcting", label: "Self-correcting coder (guide example 4)", definition: { ...example4 } },
  {
    id: "blank",
    label: "Blank: one step",
    definition: {
      name: "My orchestration",
      description: "",
      tags: [],
      steps: [{ name: "First step", roleName: "Architect" }],
    },
  },
];

export function templateText(id: string): string {
  const template = TEMPLATES.find((t) => t.id === id) ?? TEMPLATES[0];
  return JSON.stringify(template?.definition ?? {}, null, 2);
}
