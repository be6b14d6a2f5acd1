// What the lease and lock routes share with the kv routes: lease ids, the fence and lease
// headers of writes, and the JSON of a lease.
import type { Fence, Lease } from "../store/index.ts";
import { namespaceOf, validateKey } from "../store/index.ts";
import type { Ctx } from "./context.ts";
import { boundedHeader } from "./headers.ts";
import { badRequest } from "./problem.ts";

export const fenceHeader = "X-Edgecfg-Fence";
export const leaseHeader = "X-Edgecfg-Lease";
export const fencingTokenHeader = "X-Edgecfg-Fencing-Token";

const leaseIdPattern = /^([a-z0-9][a-z0-9_.-]{0,62})~([1-9][0-9]{0,15})$/;
const tokenPattern = /^[1-9][0-9]{0,15}$/;

/** The namespace a lease id names, or null when it cannot be an id the store gave out. */
export function leaseNamespace(id: string): string | null {
  return leaseIdPattern.exec(id)?.[1] ?? null;
}

/** A fencing token as a header carries it: a positive integer. */
export function parseToken(value: string, name: string): number {
  const n = Number(value);
  if (!tokenPattern.test(value) || !Number.isSafeInteger(n)) {
    throw badRequest(
      `${name}: ${JSON.stringify(value)} is not a fencing token (a positive integer)`,
    );
  }
  return n;
}

/** `X-Edgecfg-Fence: {namespace}/{name}={n}` of a write, checked against its namespace. */
/** `namespaces`: those a cross-shard txn writes, any of which the lock may be in. */
export function fenceOf(c: Ctx, namespace: string | readonly string[]): Fence | undefined {
  const raw = boundedHeader(c, fenceHeader)?.trim();
  if (raw === undefined || raw === "") return undefined;
  const at = raw.lastIndexOf("=");
  const lock = raw.slice(0, Math.max(0, at));
  const error = at < 0 ? "it has no =" : validateKey(lock);
  if (error !== null) {
    throw badRequest(`${fenceHeader} must be {namespace}/{name}={fencing token}: ${error}`);
  }
  const allowed = typeof namespace === "string" ? [namespace] : namespace;
  if (!allowed.includes(namespaceOf(lock))) {
    throw badRequest(
      `${fenceHeader} names lock ${lock} of another namespace than ${allowed.join(", ")}: ` +
        "a fence " +
        "must be a lock of a namespace the write touches",
    );
  }
  return { lock, token: parseToken(raw.slice(at + 1), fenceHeader) };
}

/** `X-Edgecfg-Lease: {id}` of a PUT: the lease must be of the key's namespace (else 400). */
export function leaseOf(c: Ctx, namespace: string): string | undefined {
  const id = boundedHeader(c, leaseHeader)?.trim();
  if (id === undefined || id === "") return undefined;
  const of = leaseNamespace(id);
  if (of === null) throw badRequest(`${leaseHeader}: ${JSON.stringify(id)} is not a lease id`);
  if (of !== namespace) {
    throw badRequest(`lease ${id} is of namespace ${of}: a key can join only a lease of its own`);
  }
  return id;
}

export function leaseJson(lease: Lease) {
  return {
    id: lease.id,
    namespace: lease.namespace,
    ttlSeconds: lease.ttlMs / 1000,
    expiresAt: new Date(lease.expiresAtMs).toISOString(),
  };
}
