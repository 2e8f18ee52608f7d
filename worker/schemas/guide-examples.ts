// The usage guide's orchestration examples and fundamental patterns, verbatim (only wrapped where the
// guide shows a bare `{ steps }` sketch), and its Ping-Pong pattern as the loop its description promises.
// The dashboard offers them as starting points; tests run them.
import type { OrchestrationInput } from "./orchestration";

export const example2: OrchestrationInput = {
  name: "Code Generation Pipeline",
  description: "Plans, generates, and reviews code changes",
  tags: ["coding", "quality"],
  steps: [
    {
      name: "Plan",
      order: 0,
      roleName: "Architect",
      inputMapping: {
        task: "{{context.input.userRequest}}",
      },
      outputMapping: {
        plan: "{{output}}",
      },
    },
    {
      name: "Generate Code",
      order: 1,
      roleName: "Coder",
      inputMapping: {
        instructions: "{{context.plan}}",
      },
      outputMapping: {
        code: "{{output}}",
      },
    },
    {
      name: "Review",
      order: 2,
      roleName: "Code Reviewer",
      inputMapping: {
        code: "{{context.code}}",
        requirements: "{{context.plan}}",
      },
      outputMapping: {
        review: "{{output}}",
      },
      condition: {
        field: "code",
        operator: "exists",
        value: null,
      },
    },
  ],
};

export const example3: OrchestrationInput = {
  name: "Multi-Source Research",
  description: "Searches multiple sources in parallel, then synthesizes",
  tags: ["research"],
  steps: [
    // Parallel search steps (same parallelGroup)
    {
      name: "Search Academic Papers",
      order: 0,
      roleName: "Research Assistant",
      parallelGroup: "search", // 🔄 Runs in parallel
      inputMapping: {
        query: "{{context.input.topic}} site:arxiv.org",
      },
    },
    {
      name: "Search Technical Docs",
      order: 1,
      roleName: "Research Assistant",
      parallelGroup: "search", // 🔄 Runs in parallel
      inputMapping: {
        query: "{{context.input.topic}} site:developer.mozilla.org",
      },
    },
    {
      name: "Search GitHub",
      order: 2,
      roleName: "Research Assistant",
      parallelGroup: "search", // 🔄 Runs in parallel
      inputMapping: {
        query: "{{context.input.topic}} site:github.com",
      },
    },
    // Synthesis step (runs after all parallel steps complete)
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
      outputMapping: {
        report: "{{output}}",
      },
    },
  ],
};

export const example4: OrchestrationInput = {
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
      inputMapping: {
        code: "{{context['Generate Code']}}",
      },
      outputMapping: {
        testResults: "{{output}}",
      },
    },
    {
      name: "Fix Failures",
      order: 2,
      roleName: "Debugger",
      condition: {
        field: "testResults.passed",
        operator: "<",
        value: 1.0, // Only run if not all tests passed
      },
      inputMapping: {
        code: "{{context['Generate Code']}}",
        failures: "{{context.testResults.failures}}",
      },
    },
  ],
};

export type PatternName = "Planner-Executor-Reviewer" | "Map-Reduce" | "Tree of Thoughts" | "Ping-Pong";

/** The four "Fundamental Patterns", each wrapped with a name so it can be saved. */
export const patterns: Record<PatternName, Pick<OrchestrationInput, "steps">> = {
  "Planner-Executor-Reviewer": {
    steps: [
      { name: "Plan", roleName: "Architect" },
      { name: "Execute", roleName: "Coder" },
      { name: "Review", roleName: "Reviewer" },
    ],
  },
  "Map-Reduce": {
    steps: [
      { name: "Search A", parallelGroup: "map" },
      { name: "Search B", parallelGroup: "map" },
      { name: "Search C", parallelGroup: "map" },
      { name: "Synthesize", order: 3 }, // Reduce step
    ],
  },
  "Tree of Thoughts": {
    steps: [
      { name: "Generate Options", parallelGroup: "generate" },
      { name: "Generate Options 2", parallelGroup: "generate" },
      { name: "Generate Options 3", parallelGroup: "generate" },
      { name: "Evaluate", order: 3 },
      { name: "Select Best", order: 4 },
    ],
  },
  "Ping-Pong": {
    steps: [
      { name: "Creator", order: 0 },
      { name: "Critic", order: 1 },
      {
        name: "Refine",
        order: 2,
        condition: {
          field: "Critic.score",
          operator: "<",
          value: 0.8,
        },
        maxRetries: 5,
      },
    ],
  },
};

/**
 * The Ping-Pong pattern as the guide describes it ("Refine up to 5 times while Critic.score < 0.8"),
 * written as a loop: the Creator drafts once, then the Critic scores and the Refine step improves the
 * draft, until the score reaches 0.8 or 5 rounds have run. The dashboard offers it as a template.
 */
export const pingPongLoop: OrchestrationInput = {
  name: "Ping-Pong Refinement",
  description: "Drafts once, then critiques and refines the draft until the Critic scores it 0.8 or more",
  tags: ["pattern", "quality"],
  steps: [
    {
      name: "Creator",
      inputMapping: { task: "{{context.input.task}}" },
      outputMapping: { draft: "{{output}}" },
    },
    {
      name: "Refinement",
      stepType: "loop",
      maxIterations: 5,
      until: { field: "Critic.score", operator: ">=", value: 0.8 },
      steps: [
        {
          name: "Critic",
          inputMapping: {
            draft: "{{context.draft}}",
            instructions:
              'Score the draft from 0 to 1. Answer as JSON: {"score": number, "feedback": string}',
          },
          outputFormat: "json",
        },
        {
          name: "Refine",
          condition: { field: "Critic.score", operator: "<", value: 0.8 },
          inputMapping: {
            draft: "{{context.draft}}",
            feedback: "{{context['Critic'].feedback}}",
            round: "{{iteration}}",
          },
          outputMapping: { draft: "{{output}}" },
        },
      ],
    },
  ],
};
