// The Worker's front door, run before any route parses anything: the body size limit, the tRPC batch
// cap, the CSRF second layer (same-origin, JSON-only mutations) and the security headers on every
// response. Refusals answer in tRPC's error shape so every client reads them the same way.
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { DEFAULT_LIMITS } from "../limits";

/** A refusal in the shape tRPC gives its own errors: `{ error: { message, code, data: { code, httpStatus } } }`. */
export function edgeError(httpStatus: number, code: TRPC_ERROR_CODE_KEY, message: string): Response {
  const body = {
    error: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus, issues: [] } },
  };
  return Response.json(body, { status: httpStatus });
}

const MAX_BODY_MB = DEFAULT_LIMITS.maxRequestBodyBytes / 1024 / 1024;

/** 413 for a body over the limit: by Content-Length when sent, else by counting a chunked body as it arrives. */
export const limitBody = bodyLimit({
  maxSize: DEFAULT_LIMITS.maxRequestBodyBytes,
  onError: () =>
    edgeError(413, "PAYLOAD_TOO_LARGE", `the request body is over the ${MAX_BODY_MB} MB limit; send less`),
});

/** `/trpc/a,b,c?batch=1` holds three calls; more than `maxBatchSize` is refused before tRPC reads the input. */
export const capBatch: MiddlewareHandler = async (c, next) => {
  const url = new URL(c.req.url);
  if (url.searchParams.get("batch") !== "1") return next();
  const calls = url.pathname.slice("/trpc/".length).split(",").length;
  if (calls <= DEFAULT_LIMITS.maxBatchSize) return next();
  return edgeError(
    400,
    "BAD_REQUEST",
    `a batch may hold at most ${DEFAULT_LIMITS.maxBatchSize} calls, this one has ${calls}; send smaller batches`,
  );
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The CSRF second layer behind the SameSite=Lax cookie: a mutation a browser sends from another origin is
 * refused, and only JSON bodies are accepted (an HTML form cannot send one without a CORS preflight).
 * Requests without an Origin header (server-side clients, curl) are not from a browser page and pass.
 */
export const sameOriginJson: MiddlewareHandler = async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) return next();
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== new URL(c.req.url).origin) {
    return edgeError(
      403,
      "FORBIDDEN",
      `requests from ${origin} are not accepted; call the API from its own origin`,
    );
  }
  const contentType = (c.req.header("content-type") ?? "").split(";", 1)[0]?.trim().toLowerCase();
  // A mutation without input (logout, cancelAll()) comes with no body and no content-type: nothing to parse.
  const empty = !contentType && (c.req.raw.body === null || c.req.header("content-length") === "0");
  if (contentType !== "application/json" && !empty) {
    const sent = contentType ? `"${contentType}"` : "no content-type";
    return edgeError(415, "UNSUPPORTED_MEDIA_TYPE", `send the body as application/json, not ${sent}`);
  }
  return next();
};

/**
 * The dashboard's Content Security Policy, the same as web/public/_headers gives the static assets. Monaco
 * runs its language services in same-origin module workers and injects <style> elements, hence worker-src
 * and style-src 'unsafe-inline'; no script runs unless it is a file from this origin.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", "data:"],
  fontSrc: ["'self'", "data:"],
  workerSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

export const securityHeaders = secureHeaders({
  contentSecurityPolicy: CONTENT_SECURITY_POLICY,
  referrerPolicy: "strict-origin-when-cross-origin",
  xFrameOptions: "DENY",
});
