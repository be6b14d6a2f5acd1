// Who and why of a write (http-api.md "Audit"), taken from the request and carried on its store
// command, which records it with the revision (src/store/audit.ts).
// - X-Edgecfg-Reason on any write: UTF-8 text, at most 256 bytes (else 400). Clients send its
//   UTF-8 bytes; workerd decodes header bytes as UTF-8 (seen over a socket: test/e2e/cli-audit).
// - X-Request-Id: the client's, when it sends one (echoed on the response), else one made for
//   each write, echoed too: it is the requestId that write's revision records. A read that sent
//   none gets none back, so the hot read paths do no work for it (one header lookup).
import type { MiddlewareHandler } from "hono";
import type { AuditActor, CommandAudit } from "../store/index.ts";
import type { AppEnv, Ctx } from "./context.ts";
import { boundedHeader } from "./headers.ts";
import { storeLimits } from "./limits.ts";
import { badRequest } from "./problem.ts";

export const reasonHeader = "X-Edgecfg-Reason";
export const requestIdHeader = "X-Request-Id";

const requestIdPattern = new RegExp(
  `^[A-Za-z0-9._:=+/@-]{1,${storeLimits.auditRequestIdBytesMax}}$`,
);
const writeMethods = new Set(["PUT", "POST", "DELETE", "PATCH"]);
const encoder = new TextEncoder();

export function auditContext(): MiddlewareHandler<AppEnv> {
  // Not async: a read that names no request id passes through with one header lookup and no
  // promise of its own (the cached stale read is the hot path).
  return function auditContext(c, next) {
    const sent = c.req.raw.headers.get(requestIdHeader) ?? undefined;
    const write = writeMethods.has(c.req.method);
    if (sent === undefined && !write) return next();
    if (sent !== undefined) c.set("requestId", checkRequestId(sent));
    if (write) c.set("reason", reasonOf(c));
    return next().then(() => {
      const id = c.get("requestId");
      // Every response here is built by the API itself, so its headers are mutable.
      if (id !== undefined) c.res.headers.set(requestIdHeader, id);
    });
  };
}

function checkRequestId(sent: string): string {
  if (requestIdPattern.test(sent)) return sent;
  throw badRequest(
    `${requestIdHeader} must be 1 to ${storeLimits.auditRequestIdBytesMax} characters of ` +
      "A-Z a-z 0-9 . _ : = + / @ - (a UUID fits); leave it out and the API makes one",
  );
}

function reasonOf(c: Ctx): string | undefined {
  const reason = boundedHeader(c, reasonHeader)?.trim();
  if (reason === undefined || reason === "") return undefined;
  return checkReason(reason, reasonHeader);
}

/** A reason as the audit trail records it (one line, bounded bytes), or a 400 naming `what`. */
export function checkReason(reason: string, what: string): string {
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(reason))
    throw badRequest(`${what} must be one line of text, without control characters`);
  const bytes = encoder.encode(reason).length;
  if (bytes > storeLimits.auditReasonBytesMax) {
    throw badRequest(
      `${what} is ${bytes} bytes; at most ${storeLimits.auditReasonBytesMax} (UTF-8) ` +
        "are recorded: say why in a line, and link to the rest",
    );
  }
  return reason;
}

/** The request's id: the client's, or one made now (and echoed on the response). */
export function requestIdOf(c: Ctx): string {
  let id = c.get("requestId");
  if (id === undefined) c.set("requestId", (id = crypto.randomUUID()));
  return id;
}

/** The audit of a write this request makes; call after authorize (it names the caller). */
export function commandAudit(c: Ctx): CommandAudit {
  const reason = c.get("reason");
  const actor = actorOf(c);
  return {
    ...(actor === undefined ? {} : { actor }),
    ...(reason === undefined ? {} : { reason }),
    requestId: requestIdOf(c),
  };
}

const adminActor: AuditActor = Object.freeze({ kind: "admin" });

function actorOf(c: Ctx): AuditActor | undefined {
  const p = c.get("principal");
  if (p?.type === "admin") return adminActor;
  if (p?.type !== "token") return undefined;
  const { id, name } = p.record;
  return name === undefined ? { kind: "token", id } : { kind: "token", id, name };
}
