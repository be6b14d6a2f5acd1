// CORS for an API that any origin may call (bearer tokens, never cookies). The headers go onto
// the final response after the route ran, errors included. hono/cors sets them before the route
// runs, which makes Hono build a placeholder Response and copy its headers into the real one:
// ~13 % of the CPU of a cached bundle poll, profiled. Preflights are answered here.
import type { MiddlewareHandler } from "hono";

/** Request headers a browser may send. */
const allowHeaders = [
  "Authorization",
  "Content-Type",
  "If-Match",
  "If-None-Match",
  "If-Modified-Since",
  "Idempotency-Key",
  "X-Edgecfg-Min-Revision",
  "X-Edgecfg-Lease",
  "X-Edgecfg-Fence",
  "X-Edgecfg-Fencing-Token",
  "Last-Event-ID",
  "X-Edgecfg-Reason",
  "X-Request-Id",
];
/** Response headers a browser script may read. */
const exposeHeaders = [
  "ETag",
  "Last-Modified",
  "Location",
  "Retry-After",
  "X-Edgecfg-Version",
  "X-Edgecfg-Revision",
  "X-Edgecfg-Applied-Revision",
  "Idempotent-Replayed",
  "X-Edgecfg-Dry-Run",
  "X-Request-Id",
];
const allowMethods = ["GET", "HEAD", "PUT", "POST", "DELETE"];
/** How long a browser may cache a preflight answer. */
const preflightMaxAgeSeconds = 600;

/**
 * The CORS headers of every response. A route may include them itself (the cached-read answers
 * do, in a Headers object built once); the middleware then leaves the response alone.
 */
export const corsResponseHeaders: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": exposeHeaders.join(","),
};

const preflightHeaders: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": allowMethods.join(","),
  "Access-Control-Allow-Headers": allowHeaders.join(","),
  "Access-Control-Max-Age": String(preflightMaxAgeSeconds),
};

export function cors(): MiddlewareHandler {
  return async function cors(c, next) {
    if (c.req.method === "OPTIONS")
      return new Response(null, { status: 204, headers: preflightHeaders });
    await next();
    // Every response here is built by the API itself, so its headers are mutable.
    const headers = c.res.headers;
    if (headers.has("Access-Control-Allow-Origin")) return;
    for (const name in corsResponseHeaders) headers.set(name, corsResponseHeaders[name]!);
  };
}
