// Reads and writes of the Workers binding, over the Router: the checks of the HTTP API (key
// grammar, content type, size, flagd definitions) and its outcomes, without HTTP or a token.
import type { ReadOptions, Router } from "../router/index.ts";
import { validateContentType } from "../store/index.ts";
import type { Command, CommandAudit } from "../store/index.ts";
import { isJsonMediaType, parseJsonBytes } from "./body.ts";
import { checkReason } from "./audit.ts";
import { formatETag } from "./etag.ts";
import { checkFlagDefinition } from "./flag-writes.ts";
import { checkKey, checkNamespace, namespaceOf } from "./keys.ts";
import { apiLimits } from "./limits.ts";
import { outcomeProblem } from "./outcomes.ts";
import { ApiProblem, badRequest, problemTypes } from "./problem.ts";

export interface RpcReadOptions {
  consistency?: "linearizable" | "stale";
}

export interface RpcPutOptions {
  contentType?: string;
  /** Compare-and-set: the ETag the key must be at. */
  ifMatch?: string;
  /** "*": create only. */
  ifNoneMatch?: "*";
  /** Why, recorded with the revision (as X-Edgecfg-Reason over HTTP). */
  reason?: string;
}

/**
 * A binding's caller is a Worker the operator bound to this one: trusted as admin is, and named
 * so in the audit trail. Each call gets its own request id.
 */
function bindingAudit(reason: string | undefined): CommandAudit {
  if (reason !== undefined) checkReason(reason, "reason");
  return {
    actor: { kind: "admin", name: "service binding" },
    ...(reason === undefined ? {} : { reason }),
    requestId: crypto.randomUUID(),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function readOptions(o: RpcReadOptions | undefined): ReadOptions {
  return { consistency: o?.consistency ?? "linearizable" };
}

/** A value as stored: JSON parsed, text as a string, other media types as bytes. */
function decoded(contentType: string, bytes: Uint8Array): unknown {
  if (isJsonMediaType(contentType)) return JSON.parse(decoder.decode(bytes));
  return contentType.toLowerCase().startsWith("text/") ? decoder.decode(bytes) : bytes;
}

export async function rpcGet(router: Router, key: string, o?: RpcReadOptions) {
  const checked = checkKey(key);
  const ns = namespaceOf(checked);
  const read = await router.read(ns, { type: "get", key: checked }, readOptions(o));
  const r = read.result;
  if (r.type === "invalid") throw badRequest(r.detail);
  if (r.type !== "found") return null;
  const { contentType, version, modRevision } = r.entry;
  const value = decoded(contentType, r.value);
  return { key: checked, value, contentType, etag: formatETag(modRevision), version, modRevision };
}

export async function rpcBundle(router: Router, namespace: string, o?: RpcReadOptions) {
  const ns = checkNamespace(namespace);
  const read = await router.read(ns, { type: "bundle", namespace: ns }, readOptions(o));
  const r = read.result;
  if (r.type === "invalid") throw badRequest(r.detail);
  const entries: Record<string, unknown> = {};
  for (const item of r.items) entries[item.name] = decoded(item.entry.contentType, item.value);
  return {
    namespace: ns,
    revision: r.namespaceRevision,
    etag: formatETag(r.namespaceRevision),
    entries,
  };
}

function body(value: unknown, contentType: string | undefined) {
  if (typeof value === "string")
    return {
      bytes: encoder.encode(value),
      contentType: contentType ?? "text/plain; charset=utf-8",
    };
  if (value instanceof Uint8Array)
    return { bytes: value, contentType: contentType ?? "application/octet-stream" };
  if (value instanceof ArrayBuffer)
    return { bytes: new Uint8Array(value), contentType: contentType ?? "application/octet-stream" };
  return {
    bytes: encoder.encode(JSON.stringify(value)),
    contentType: contentType ?? "application/json",
  };
}

function etagRevision(etag: string): number {
  const m = /^"r(\d{1,15})"$/.exec(etag.trim());
  if (!m) throw badRequest(`ifMatch ${JSON.stringify(etag)} is not an ETag this store issued`);
  return Number(m[1]);
}

function putCommand(key: string, value: unknown, o: RpcPutOptions | undefined): Command {
  const { bytes, contentType } = body(value, o?.contentType);
  const typeError = validateContentType(contentType);
  if (typeError !== null) throw badRequest(`contentType: ${typeError}`);
  if (bytes.byteLength > apiLimits.valueBytesMax) {
    const detail = `the value is larger than ${apiLimits.valueBytesMax} bytes, the limit`;
    throw new ApiProblem({ status: 413, type: problemTypes.payloadTooLarge, detail });
  }
  if (isJsonMediaType(contentType)) checkFlagDefinition(key, parseJsonBytes(bytes, "the value"));
  return {
    type: "put",
    atMs: Date.now(),
    audit: bindingAudit(o?.reason),
    key,
    value: bytes,
    contentType,
    ...(o?.ifMatch === undefined ? {} : { ifMatch: etagRevision(o.ifMatch) }),
    ...(o?.ifNoneMatch === "*" ? { ifNoneMatch: "*" as const } : {}),
  };
}

export async function rpcPut(router: Router, key: string, value: unknown, o?: RpcPutOptions) {
  const checked = checkKey(key);
  const ns = namespaceOf(checked);
  const { outcome } = await router.write(ns, putCommand(checked, value, o));
  if (outcome.type !== "ok")
    throw outcomeProblem(outcome) ?? new Error(`unexpected ${outcome.type}`);
  const { version, modRevision } = outcome.entry;
  const created = outcome.change === "created";
  return { key: checked, etag: formatETag(modRevision), version, modRevision, created };
}

export async function rpcDelete(
  router: Router,
  key: string,
  o?: { ifMatch?: string; reason?: string },
) {
  const checked = checkKey(key);
  const ns = namespaceOf(checked);
  const command: Command = {
    type: "delete",
    atMs: Date.now(),
    audit: bindingAudit(o?.reason),
    key: checked,
    ...(o?.ifMatch === undefined ? {} : { ifMatch: etagRevision(o.ifMatch) }),
  };
  const { outcome } = await router.write(ns, command);
  if (outcome.type === "notFound") return false;
  if (outcome.type !== "ok")
    throw outcomeProblem(outcome) ?? new Error(`unexpected ${outcome.type}`);
  return true;
}
