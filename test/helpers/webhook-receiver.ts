// A vitest globalSetup (runs in Node, not workerd): a real HTTP server on loopback that webhook deliveries
// are POSTed to. Each test uses its own key in the path, so tests share nothing:
// - POST /hook/<key>: records the request (headers and raw body) and answers by the key's script
// - POST /control/<key> with `{ "responses": [Reply, ...] }`: the next requests' answers, in order; once
//   the script is used up every request is answered 200. Reply = { status, body?, location? } or
//   { hang: true } (never answers; the request is recorded all the same)
// - GET /received/<key>: what was recorded, oldest first
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Reserved by test/vitest.config.ts before this setup runs. */
    webhookReceiverPort: number;
  }
}

export type ReceiverReply = { status: number; body?: string; location?: string } | { hang: true };

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** ms since the epoch, when the request arrived. */
  at: number;
}

const scripts = new Map<string, ReceiverReply[]>();
const received = new Map<string, ReceivedRequest[]>();
const hanging = new Set<ServerResponse>();

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "text/plain", ...headers });
  response.end(body);
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const [, kind, key = ""] = (request.url ?? "").split("?")[0]?.split("/") ?? [];
  const body = await readBody(request);
  if (kind === "control" && request.method === "POST") {
    scripts.set(key, (JSON.parse(body) as { responses: ReceiverReply[] }).responses);
    return send(response, 204, "");
  }
  if (kind === "received" && request.method === "GET") {
    response.writeHead(200, { "content-type": "application/json" });
    return void response.end(JSON.stringify(received.get(key) ?? []));
  }
  if (kind !== "hook") return send(response, 404, "no such path");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (typeof value === "string") headers[name] = value;
  const list = received.get(key) ?? [];
  list.push({ method: request.method ?? "", path: request.url ?? "", headers, body, at: Date.now() });
  received.set(key, list);
  const reply = scripts.get(key)?.shift();
  if (!reply) return send(response, 200, "ok");
  if ("hang" in reply) {
    hanging.add(response);
    response.on("close", () => hanging.delete(response));
    return;
  }
  send(response, reply.status, reply.body ?? "", reply.location ? { location: reply.location } : {});
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = project.getProvidedContext().webhookReceiverPort;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) send(response, 500, `receiver bug: ${error.message}`);
    });
  });
  await listen(server, port);
  return async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
