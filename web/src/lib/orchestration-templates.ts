// Starting points for a new orchestration, taken from the usage guide's examples.

export interface OrchestrationTemplate {
  id: string;
  label: string;
  definition: Record<string, unknown>;
}

export const TEMPLATES: OrchestrationTemplate[] = [
  {
    id: "planner-executor-reviewer",
    label: "Planner-Executor-Reviewer (guide example 2)",
    definition: {
      name: "Code Generation Pipeline",
      description: "Plans, generates, and reviews code changes",
      tags: ["coding", "quality"],
      steps: [
        {
          name: "Plan",
          order: 0,
          roleName: "Architect",
          inputMapping: { task: "{{context.input.userRequest}}" },
          outputMapping: { plan: "{{output}}" },
        },
        {
          name: "Generate Code",
          order: 1,
          roleName: "Coder",
          inputMapping: { instructions: "{{context.plan}}" },
          outputMapping: { code: "{{output}}" },
        },
        {
          name: "Review",
          order: 2,
          roleName: "Code Reviewer",
          inputMapping: { code: "{{context.code}}", requirements: "{{context.plan}}" },
          outputMapping: { review: "{{output}}" },
          condition: { field: "code", operator: "exists", value: null },
        },
      ],
    },
  },
  {
    id: "map-reduce",
    label: "Map-Reduce research (guide example 3)",
    definition: {
      name: "Multi-Source Research",
      description: "Searches multiple sources in parallel, then synthesizes",
      tags: ["research"],
      steps: [
        ...[
          ["Search Academic Papers", "site:arxiv.org"],
          ["Search Technical Docs", "site:developer.mozilla.org"],
          ["Search GitHub", "site:github.com"],
        ].map(([name, site], order) => ({
          name,
          order,
          roleName: "Research Assistant",
          parallelGroup: "search",
          inputMapping: { query: `{{context.input.topic}} ${site}` },
        })),
        {
          name: "Synthesize Findings",
          order: 3,
          roleName: "Synthesizer",
          inputMapping: {
            sources: {
              academic: "{{context['Search Academic Papers']}}",
              docs: "{{context['Search Technical Docs']}}",
              github: "{{context['Search GitHub']}}",
            },
          },
          outputMapping: { report: "{{output}}" },
        },
      ],
    },
  },
  {
    id: "self-correcting",
    label: "Self-correcting coder (guide example 4)",
    definition: {
      name: "Self-Correcting Coder",
      description: "Generates code and auto-fixes errors",
      tags: ["coding", "reliability"],
      steps: [
        {
          name: "Generate Code",
          order: 0,
          roleName: "Coder",
          maxRetries: 2,
          retryDelay: 1000,
          timeout: 60000,
        },
        {
          name: "Run Tests",
          order: 1,
          roleName: "Tester",
          inputMapping: { code: "{{context['Generate Code']}}" },
          outputMapping: { testResults: "{{output}}" },
        },
        {
          name: "Fix Failures",
          order: 2,
          roleName: "Debugger",
          condition: { field: "testResults.passed", operator: "<", value: 1.0 },
          inputMapping: {
            code: "{{context['Generate Code']}}",
            failures: "{{context.testResults.failures}}",
          },
        },
      ],
    },
  },
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
