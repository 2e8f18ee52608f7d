// Where each value of a JSON document sits in its text, keyed by the API's path format
// (`steps[2].condition.operator`), so a field issue can be underlined in the editor. Expects valid JSON;
// on anything else it returns what it found so far.
import { formatPath } from "../../../worker/schemas/common";

export interface TextRange {
  start: number;
  end: number;
}

export function jsonLocations(text: string): Map<string, TextRange> {
  const ranges = new Map<string, TextRange>();
  let at = 0;
  const skip = () => {
    while (at < text.length && /\s/.test(text.charAt(at))) at += 1;
  };
  const readString = (): string => {
    const start = at;
    at += 1;
    while (at < text.length && text.charAt(at) !== '"') at += text.charAt(at) === "\\" ? 2 : 1;
    at += 1;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const readValue = (path: (string | number)[]): void => {
    skip();
    const start = at;
    const ch = text.charAt(at);
    if (ch === "{") {
      at += 1;
      skip();
      while (at < text.length && text.charAt(at) !== "}") {
        skip();
        const keyStart = at;
        const key = readString();
        skip();
        at += 1; // ':'
        readValue([...path, key]);
        // A missing value's issue points at its key: widen the range to start there.
        const own = ranges.get(formatPath([...path, key]));
        if (own) own.start = keyStart;
        skip();
        if (text.charAt(at) === ",") at += 1;
        skip();
      }
      at += 1;
    } else if (ch === "[") {
      at += 1;
      let index = 0;
      skip();
      while (at < text.length && text.charAt(at) !== "]") {
        readValue([...path, index]);
        index += 1;
        skip();
        if (text.charAt(at) === ",") at += 1;
        skip();
      }
      at += 1;
    } else if (ch === '"') {
      readString();
    } else {
      while (at < text.length && /[^\s,\]}]/.test(text.charAt(at))) at += 1;
    }
    ranges.set(formatPath(path), { start, end: Math.max(at, start + 1) });
  };
  try {
    readValue([]);
  } catch {
    // Invalid JSON: keep the ranges found before the error.
  }
  return ranges;
}

/** `steps[2].condition.operator` → `steps[2].condition` → `steps[2]` → `steps` → `` */
export function parentPath(path: string): string | undefined {
  if (path === "") return undefined;
  const parent = path.replace(/(\.[A-Za-z_$][\w$]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\]|^[A-Za-z_$][\w$]*)$/, "");
  return parent === path ? "" : parent;
}

/** The range of `path`, or of its nearest ancestor that exists (a missing field marks its parent). */
export function rangeOf(ranges: Map<string, TextRange>, path: string): TextRange | undefined {
  for (let current: string | undefined = path; current !== undefined; current = parentPath(current)) {
    const range = ranges.get(current);
    if (range) return range;
  }
  return undefined;
}
