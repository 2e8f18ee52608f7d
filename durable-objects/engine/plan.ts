// Turns a definition's steps into stages: steps run in `order` (the array position when omitted);
// steps sharing a parallelGroup form one stage placed at the lowest order among them.
// Pure: no storage, no clock, no network.
import type { StepDefinition } from "./definition";

export function stagesOf(steps: readonly Pick<StepDefinition, "order" | "parallelGroup">[]): number[][] {
  const keyed = steps.map((step, index) => ({ step, index, order: step.order ?? index }));
  const groupOrder = new Map<string, number>();
  for (const { step, order } of keyed) {
    if (step.parallelGroup === undefined) continue;
    const current = groupOrder.get(step.parallelGroup);
    if (current === undefined || order < current) groupOrder.set(step.parallelGroup, order);
  }
  type Stage = { order: number; first: number; members: number[] };
  const stages: Stage[] = [];
  const byGroup = new Map<string, Stage>();
  for (const { step, index, order } of keyed) {
    const group = step.parallelGroup;
    if (group === undefined) {
      stages.push({ order, first: index, members: [index] });
      continue;
    }
    const existing = byGroup.get(group);
    if (existing) {
      existing.members.push(index);
    } else {
      const stage = { order: groupOrder.get(group) ?? order, first: index, members: [index] };
      byGroup.set(group, stage);
      stages.push(stage);
    }
  }
  // Equal orders keep their array position, so sorting is stable on (order, first index).
  stages.sort((a, b) => a.order - b.order || a.first - b.first);
  return stages.map((stage) => stage.members);
}
