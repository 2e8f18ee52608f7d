// A minimal EventSource over the Worker's own fetch, so the tests' tRPC client can use
// httpSubscriptionLink (Server-Sent Events) inside workerd, which has no EventSource. It also sends
// headers (cookie, API key), which a browser's EventSource cannot; it never reconnects.
import { workerFetch } from "./client";

export interface FetchEventSourceInit {
  headers?: Record<string, string>;
}

export class FetchEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readonly url: string;
  readonly withCredentials = false;
  readyState = 0;
  private readonly controller = new AbortController();

  constructor(url: string | URL, init: FetchEventSourceInit = {}) {
    super();
    this.url = String(url);
    void this.read(init.headers ?? {});
  }

  close(): void {
    this.readyState = this.CLOSED;
    this.controller.abort();
  }

  private async read(headers: Record<string, string>): Promise<void> {
    try {
      const response = await workerFetch(this.url, {
        headers: { accept: "text/event-stream", ...headers },
        signal: this.controller.signal,
      });
      if (!response.body) throw new Error(`no event stream (HTTP ${response.status})`);
      this.readyState = this.OPEN;
      this.dispatchEvent(new Event("open"));
      let buffer = "";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += chunk.value;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          this.dispatchBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Closed by us, or the request failed: either way the stream is over.
    }
    if (this.readyState !== this.CLOSED) {
      this.readyState = this.CLOSED;
      this.dispatchEvent(new Event("error"));
    }
  }

  /** One SSE block: `event:`, `data:` (joined by newlines) and `id:` lines; comments start with ":". */
  private dispatchBlock(block: string): void {
    let type = "message";
    let id = "";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (data.length === 0 && type === "message") return;
    this.dispatchEvent(new MessageEvent(type, { data: data.join("\n"), lastEventId: id }));
  }
}
