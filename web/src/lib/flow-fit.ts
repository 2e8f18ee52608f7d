// How big the graph's box is and which way the stages run: left to right unless the box is a phone's
// or the flow reads clearly larger top to bottom (a wide flow in the editor's half of the screen).
// Pure: the sizes come from layoutFlow and the box's measured width.
import type { FlowDirection } from "./flow-layout";

/** Below this width the flow is drawn top to bottom, so a phone shows it at a readable size. */
export const NARROW_PX = 640;
/** fitView's padding (0.12 each side) as a factor of the flow's size. */
export const PADDED = 1.24;
export const MAX_HEIGHT = { LR: 720, TB: 1100 } as const;

/** The zoom at which a layout fits the box, as fitView will choose it (never above 1). */
export function fitOf(layout: { width: number; height: number }, width: number, direction: FlowDirection) {
  return Math.min(1, (width - 8) / (layout.width * PADDED), MAX_HEIGHT[direction] / (layout.height * PADDED));
}

/**
 * Stages left to right, unless the box is narrow (a phone) or the flow reads clearly larger top to
 * bottom (a wide flow in the editor's half of the screen).
 */
export function chooseDirection(
  layouts: Record<FlowDirection, { width: number; height: number }>,
  width: number,
): FlowDirection {
  if (width < NARROW_PX) return "TB";
  return fitOf(layouts.TB, width, "TB") > fitOf(layouts.LR, width, "LR") + 0.1 ? "TB" : "LR";
}

/** Tall enough for the flow at the zoom that fits it, so a wide flow leaves no empty band. */
export function boxHeight(
  layout: { width: number; height: number },
  width: number,
  direction: FlowDirection,
) {
  const fitted = layout.height * PADDED * fitOf(layout, width, direction) + 8;
  return Math.max(260, Math.min(MAX_HEIGHT[direction], fitted));
}
