// Frames and how they pack: a node measured along the stages ("main") and across them ("cross"), a frame
// wrapped around a placed body with its header on top, and branch arms stacked one under another.
// Pure geometry for flow-layout.ts; x/y only appear at the very end there.
import type { Edge } from "@xyflow/react";
import type { FlowNode } from "./flow-node-data";

export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 118;
const ARM_GAP = 13;

/** A node before it is turned into x/y: "main" runs along the stages, "cross" along a stage's members. */
export interface Item {
  node: Omit<FlowNode, "position">;
  main: number;
  cross: number;
  mainLength: number;
  crossLength: number;
}

export interface Placed {
  items: Item[];
  edges: Edge[];
  main: number;
  cross: number;
  /** The node that edges into and out of this step attach to. */
  rootId?: string;
}

export const shift = (placed: Placed, main: number, cross: number): Item[] =>
  placed.items.map((item) => ({ ...item, main: item.main + main, cross: item.cross + cross }));

/** Padding of a frame whose label or header sits on top (the y side, whichever axis that is). */
function padding(across: boolean, top: number, side: number) {
  return across
    ? { mainStart: top, mainEnd: side, crossStart: side, crossEnd: side }
    : { mainStart: side, mainEnd: side, crossStart: top, crossEnd: side };
}

/** Wraps `inner` in a frame node; the frame is at least a step wide, so its header stays readable. */
export function frame(across: boolean, inner: Placed, node: Item["node"], top: number, side: number): Placed {
  const pad = padding(across, top, side);
  let main = inner.main + pad.mainStart + pad.mainEnd;
  let cross = inner.cross + pad.crossStart + pad.crossEnd;
  const minWidth = NODE_WIDTH + 2 * side;
  const extraMain = across ? 0 : Math.max(0, minWidth - main);
  const extraCross = across ? Math.max(0, minWidth - cross) : 0;
  main += extraMain;
  cross += extraCross;
  const items = shift(inner, pad.mainStart + extraMain / 2, pad.crossStart + extraCross / 2);
  return {
    items: [{ node, main: 0, cross: 0, mainLength: main, crossLength: cross }, ...items],
    edges: inner.edges,
    main,
    cross,
    rootId: node.id,
  };
}

/** Arms one under another: along the cross axis left to right, along the main axis top to bottom. */
export function stackArms(across: boolean, arms: Placed[]): Placed {
  const down = across;
  const breadth = Math.max(0, ...arms.map((arm) => (down ? arm.cross : arm.main)));
  const items: Item[] = [];
  let offset = 0;
  for (const arm of arms) {
    const [armFrame, ...body] = arm.items;
    if (!armFrame) continue;
    const extra = (breadth - (down ? arm.cross : arm.main)) / 2;
    if (down) armFrame.crossLength = breadth;
    else armFrame.mainLength = breadth;
    items.push(...shift({ ...arm, items: [armFrame] }, down ? offset : 0, down ? 0 : offset));
    items.push(...shift({ ...arm, items: body }, down ? offset : extra, down ? extra : offset));
    offset += (down ? arm.main : arm.cross) + ARM_GAP;
  }
  const length = Math.max(0, offset - ARM_GAP);
  const edges = arms.flatMap((arm) => arm.edges);
  return down
    ? { items, edges, main: length, cross: breadth }
    : { items, edges, main: breadth, cross: length };
}
