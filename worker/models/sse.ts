// Server-sent events as model providers stream them (text/event-stream): the `data` of each event, in
// order, from a body whose chunks may split anywhere (inside a line, a CRLF, a UTF-8 character).
// Comments (": keep-alive") and other fields (event, id, retry) are skipped. Knows nothing of any provider.

/** Splits the text read so far into complete lines and the unfinished rest. */
function completeLines(buffer: string, final: boolean): { lines: string[]; rest: string } {
  const lines: string[] = [];
  let start = 0;
  for (let index = 0; index < buffer.length; index++) {
    const char = buffer[index];
    if (char !== "\n" && char !== "\r") continue;
    // A CR as the last character may be the first half of a CRLF still on its way.
    if (char === "\r" && index === buffer.length - 1 && !final) break;
    lines.push(buffer.slice(start, index));
    if (char === "\r" && buffer[index + 1] === "\n") index++;
    start = index + 1;
  }
  return { lines, rest: buffer.slice(start) };
}

/** The data of one event as its lines accumulate; undefined until a blank line ends it. */
class EventBuilder {
  private data: string[] = [];

  /** Feeds one line; answers the event's data when the line ends an event that has some. */
  line(line: string): string | undefined {
    if (line === "") return this.flush();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== "data") return undefined;
    const value = colon === -1 ? "" : line.slice(colon + 1);
    this.data.push(value.startsWith(" ") ? value.slice(1) : value);
    return undefined;
  }

  flush(): string | undefined {
    if (this.data.length === 0) return undefined;
    const data = this.data.join("\n");
    this.data = [];
    return data;
  }
}

/**
 * Yields each event's data. A read that fails (connection dropped, aborted) throws out of the loop. At the
 * end of the body an event whose lines all arrived but whose closing blank line did not is still yielded
 * (some servers end on "data: [DONE]\n"); a line cut off mid-way is not.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  // A reader and one streaming TextDecoder, not pipeThrough(new TextDecoderStream()): the piped stream
  // costs several times the CPU of the parsing itself for a short reply, once per model call.
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const event = new EventBuilder();
  let buffer = "";
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const { lines, rest } = completeLines(buffer + decoder.decode(value, { stream: true }), false);
      buffer = rest;
      for (const line of lines) {
        const data = event.line(line);
        if (data !== undefined) yield data;
      }
    }
    for (const line of completeLines(buffer + decoder.decode(), true).lines) {
      const data = event.line(line);
      if (data !== undefined) yield data;
    }
    ended = true;
    const last = event.flush();
    if (last !== undefined) yield last;
  } finally {
    // The consumer stopped early (it read [DONE], or failed): hang up rather than leave the body open.
    if (!ended) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
