// Starting points for a new orchestration: the usage guide's examples (from the module the tests use),
// its Ping-Pong pattern as a loop, and a plan fanned out over its tasks with forEach.
import { example2, example3, example4, pingPongLoop } from "../../../worker/schemas/guide-examples";

export interface OrchestrationTemplate {
  id: string;
  label: string;
  definition: Record<string, unknown>;
}

/** A planner's list of tasks, each worked on by the Coder (three at a time), then one review of them all. */
export const planForEachTask = {
  name: "Plan and fan out",
  description: "Plans a list of tasks, works on each task (three at a time), then reviews all results",
  tags: ["coding", "fan-out"],
  steps: [
    {
      name: "Plan",
      roleName: "Architect",
      inputMapping: {
        request: "{{context.input.userRequest}}",
        instructions: 'Answer as JSON: {"tasks": ["first task", "second task", ...]}',
      },
      outputFormat: "json",
      outputMapping: { plan: "{{output}}" },
    },
    {
      name: "Each task",
      stepType: "forEach",
      items: "{{context.plan.tasks}}",
      concurrency: 3,
      steps: [
        {
          name: "Do task",
          roleName: "Coder",
          inputMapping: { task: "{{item}}", number: "{{index}}" },
          maxRetries: 1,
        },
      ],
    },
    {
      name: "Review all",
      roleName: "Code Reviewer",
      inputMapping: { results: "{{context['Each task']}}", plan: "{{context.plan}}" },
    },
  ],
};

export const TEMPLATES: OrchestrationTemplate[] = [
  {
    id: "planner-executor-reviewer",
    label: "Planner-Executor-Reviewer (guide example 2)",
    definition: { ...example2 },
  },
  { id: "map-reduce", label: "Map-Reduce research (guide example 3)", definition: { ...example3 } },
  { id: "self-correcting", label: "Self-correcting coder (guide example 4)", definition: { ...example4 } },
  {
    id: "ping-pong-loop",
    label: "Ping-Pong: critique and refine in a loop",
    definition: { ...pingPongLoop },
  },
  { id: "plan-for-each", label: "Plan, then work on each task (forEach)", definition: planForEachTask },
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
