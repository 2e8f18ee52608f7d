// Maps a line and column in the loaded module (agent.js) back to the agent's own TypeScript: through the
// wrapper's prefix on line 1, the guard's insertions and sucrase's source map. Lines never move (neither
// sucrase nor the guard adds line breaks); only columns do. Lines and columns are 1-based, as editors show.
import type { Insertion } from "./instrument";

export interface Position {
  line: number;
  column: number;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes one source map segment's VLQ fields. */
function decodeSegment(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return values;
}

/** Per generated line (0-based), the [generated column, source column] pairs (0-based) of sucrase's map. */
export function decodeColumns(mappings: string): [number, number][][] {
  let sourceColumn = 0;
  return mappings.split(";").map((line) => {
    let generatedColumn = 0;
    const pairs: [number, number][] = [];
    for (const segment of line.split(",")) {
      if (!segment) continue;
      const fields = decodeSegment(segment);
      generatedColumn += fields[0] ?? 0;
      if (fields.length >= 4) {
        sourceColumn += fields[3] ?? 0;
        pairs.push([generatedColumn, sourceColumn]);
      }
    }
    return pairs;
  });
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export interface PositionMapInput {
  /** The JavaScript sucrase produced (before the guard was inserted). */
  js: string;
  /** sucrase's source map `mappings` from that JavaScript to the agent's source. */
  mappings: string;
  insertions: Insertion[];
  /** Characters the module wrapper puts before the agent's code on line 1. */
  prefixLength: number;
}

export function positionMap(input: PositionMapInput): (at: Position) => Position {
  const starts = lineStarts(input.js);
  const columns = decodeColumns(input.mappings);
  const byLine = new Map<number, { column: number; length: number }[]>();
  for (const insertion of input.insertions.toSorted((a, b) => a.at - b.at)) {
    let line = 0;
    while (line + 1 < starts.length && (starts[line + 1] ?? Infinity) <= insertion.at) line++;
    const list = byLine.get(line) ?? [];
    list.push({ column: insertion.at - (starts[line] ?? 0), length: insertion.text.length });
    byLine.set(line, list);
  }
  return ({ line, column }) => {
    const index = line - 1;
    let col = column - 1 - (index === 0 ? input.prefixLength : 0);
    // Undo the guard's insertions; a column inside an inserted call maps to where it was inserted.
    let shift = 0;
    for (const insertion of byLine.get(index) ?? []) {
      const start = insertion.column + shift;
      if (col < start) break;
      if (col < start + insertion.length) {
        col = start;
        break;
      }
      shift += insertion.length;
    }
    col = Math.max(0, col - shift);
    const pairs = columns[index] ?? [];
    let mapped = col;
    for (const [generated, source] of pairs) {
      if (generated > col) break;
      mapped = source + (col - generated);
    }
    return { line, column: mapped + 1 };
  };
}
