// The usage guide's agent-code blocks, verbatim (only escaped to sit in template literals), with helpers to
// run them: a tenant with a `meta` role, runCode over tRPC, and a model reply that carries one block.
// The guide's placeholder ids ("clf...", "...") are ordinary strings: tests create an orchestration named
// "clf..." and an execution started with idempotencyKey "...", which the meta functions accept as well.
import { newTenant, type TestClient } from "./client";

export const guideCode = {
  /** Example 1: Creating a Role via Code */
  example1: `// Create a code reviewer role
const result = await create_role({
  name: "Code Reviewer",
  basePrompt: \`You are a senior code reviewer. Analyze code for:
- Security vulnerabilities
- Performance issues  
- Code style and best practices
- Test coverage\`,
  capabilities: {
    needsCoding: true,
    needsTools: false,
    needsReasoning: true
  },
  contextLimits: {
    minContext: 8000,
    maxContext: 128000
  },
  hyperparameters: {
    temperature: 0.3, // Low temperature for consistent reviews
    maxTokens: 4000
  }
});

console.log(result);`,
  /** Example 2: Creating an Orchestration */
  example2: `// Create a "Planner-Executor-Reviewer" orchestration
const orchestration = await create_orchestration({
  name: "Code Generation Pipeline",
  description: "Plans, generates, and reviews code changes",
  tags: ["coding", "quality"],
  steps: [
    {
      name: "Plan",
      order: 0,
      roleName: "Architect",
      inputMapping: {
        task: "{{context.input.userRequest}}"
      },
      outputMapping: {
        plan: "{{output}}"
      }
    },
    {
      name: "Generate Code",
      order: 1,
      roleName: "Coder",
      inputMapping: {
        instructions: "{{context.plan}}"
      },
      outputMapping: {
        code: "{{output}}"
      }
    },
    {
      name: "Review",
      order: 2,
      roleName: "Code Reviewer",
      inputMapping: {
        code: "{{context.code}}",
        requirements: "{{context.plan}}"
      },
      outputMapping: {
        review: "{{output}}"
      },
      condition: {
        field: "code",
        operator: "exists",
        value: null
      }
    }
  ]
});

console.log(orchestration);`,
  /** Example 3: Parallel Execution (Map-Reduce Pattern) */
  example3: `// Research orchestration with parallel searches
const researchFlow = await create_orchestration({
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
        query: "{{context.input.topic}} site:arxiv.org"
      }
    },
    {
      name: "Search Technical Docs",
      order: 1,
      roleName: "Research Assistant",
      parallelGroup: "search", // 🔄 Runs in parallel
      inputMapping: {
        query: "{{context.input.topic}} site:developer.mozilla.org"
      }
    },
    {
      name: "Search GitHub",
      order: 2,
      roleName: "Research Assistant",
      parallelGroup: "search", // 🔄 Runs in parallel
      inputMapping: {
        query: "{{context.input.topic}} site:github.com"
      }
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
          github: "{{context['Search GitHub']}}"
        }
      },
      outputMapping: {
        report: "{{output}}"
      }
    }
  ]
});`,
  /** Example 4: Conditional Logic & Retries */
  example4: `// Self-correcting code generation
const selfCorrectingFlow = await create_orchestration({
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
      timeout: 60000
    },
    {
      name: "Run Tests",
      order: 1,
      roleName: "Tester",
      inputMapping: {
        code: "{{context['Generate Code']}}"
      },
      outputMapping: {
        testResults: "{{output}}"
      }
    },
    {
      name: "Fix Failures",
      order: 2,
      roleName: "Debugger",
      condition: {
        field: "testResults.passed",
        operator: "<",
        value: 1.0 // Only run if not all tests passed
      },
      inputMapping: {
        code: "{{context['Generate Code']}}",
        failures: "{{context.testResults.failures}}"
      }
    }
  ]
});`,
  /** Executing Orchestrations: Via Agent Code */
  executing: `// Execute an orchestration
const execution = await execute_orchestration({
  orchestrationId: "clf...",
  input: {
    userRequest: "Create a React component for a login form",
    requirements: ["validation", "accessibility", "responsive"]
  }
});

// Check status
const status = await get_execution_status({
  executionId: execution.id
});

console.log(status);`,
  /** Listing and Managing */
  listingAndManaging: `// List all orchestrations
const allOrchestrations = await list_orchestrations({});

// Filter by tags
const codingFlows = await list_orchestrations({
  tags: ["coding"],
  activeOnly: true
});

// Get details
const details = await get_orchestration({
  nameOrId: "Code Generation Pipeline"
});

// Update
await update_orchestration({
  orchestrationId: "clf...",
  updates: {
    isActive: false, // Disable temporarily
    tags: ["coding", "deprecated"]
  }
});

// Delete
await delete_orchestration({
  orchestrationId: "clf..."
});`,
  /** Troubleshooting: Execution Failed */
  executionFailed: `const status = await system.get_execution_status({ executionId: "..." });
console.log(status.error); // Check the error message
console.log(status.stepLogs); // See which step failed`,
  /** Troubleshooting: Role Not Found */
  roleNotFound: `const roles = await system.list_roles();
console.log(roles);`,
};

export const DESIGNER = "Orchestration Designer";

/** A new tenant whose "Orchestration Designer" holds the `meta` tool, as the guide grants it. */
export async function metaTenant(label = "meta") {
  const account = await newTenant(label);
  const designer = await account.trpc.role.create.mutate({
    name: DESIGNER,
    basePrompt: "You are an AI that designs multi-agent workflows",
    tools: ["meta"],
    needsTools: true,
  });
  return { ...account, designer };
}

/** Runs `code` as `roleName` (the designer unless given) through agent.runCode. */
export function runCode(
  trpc: TestClient,
  code: string,
  options: { roleName?: string; timeoutMs?: number } = {},
) {
  return trpc.agent.runCode.mutate({
    roleName: options.roleName ?? DESIGNER,
    code,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

/** A model reply that asks to run `code`, as a model would write it. */
export function codeReply(code: string, lead = "Let me do that."): string {
  return `${lead}\n\n\`\`\`typescript\n${code}\n\`\`\`\n`;
}
