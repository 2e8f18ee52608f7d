// The guide's examples (worker/schemas/guide-examples.ts, shared with the dashboard) and the roles
// they name.
export * from "../../worker/schemas/guide-examples.ts";

export const guideRoleNames = [
  "Architect",
  "Coder",
  "Code Reviewer",
  "Reviewer",
  "Research Assistant",
  "Synthesizer",
  "Tester",
  "Debugger",
] as const;
