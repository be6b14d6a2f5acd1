// Authentication (who is calling) and authorization (may they do this to that namespace).
// - `Authorization: Bearer <token>`: the ADMIN_TOKEN secret (compared in constant time), or a
//   minted token looked up by its SHA-256 in the system namespace (remembered for a second:
//   auth-lookups.ts).
// - No header: anonymous, which may only read namespaces marked public-read.
// - Secure by default: without ADMIN_TOKEN every write is refused (503) with the fix in the detail.
import { systemNamespace } from "../store/index.ts";
import type { TokenOperation, TokenRecord } from "../store/index.ts";
import { rememberedLookup } from "./auth-lookups.ts";
import type { Ctx, Principal } from "./context.ts";
import { ApiProblem, problemTypes } from "./problem.ts";
import { globMatches, secretsEqual, sha256Hex } from "./tokens-crypto.ts";

function unauthorized(detail: string): ApiProblem {
  return new ApiProblem({
    status: 401,
    type: problemTypes.unauthorized,
    detail,
    headers: { "WWW-Authenticate": 'Bearer realm="edgecfg"' },
  });
}

export function adminConfigured(c: Ctx): boolean {
  return typeof c.env.ADMIN_TOKEN === "string" && c.env.ADMIN_TOKEN.length > 0;
}

export function notConfigured(): ApiProblem {
  return new ApiProblem({
    status: 503,
    type: problemTypes.notConfigured,
    detail:
      "this deployment has no ADMIN_TOKEN secret, so every write is refused. Set one with " +
      "`wrangler secret put ADMIN_TOKEN` (then mint scoped tokens with POST /v1/tokens); " +
      'local runs (npm start) use the development token "dev-admin-token"',
    extensions: { retryAfter: 3600 },
    headers: { "Retry-After": "3600" },
  });
}

const anonymous: Principal = Object.freeze({ type: "anonymous" });
const admin: Principal = Object.freeze({ type: "admin" });

/** The caller as the request alone tells (no header, the admin token), or the minted token to look up. */
function callerOf(c: Ctx): Principal | { type: "minted"; presented: string } {
  const header = c.req.header("Authorization");
  if (header === undefined) return anonymous;
  const m = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header.trim());
  if (!m) throw unauthorized("the Authorization header must be `Bearer <token>`");
  const presented = m[1]!;
  if (adminConfigured(c) && secretsEqual(presented, c.env.ADMIN_TOKEN!)) return admin;
  return { type: "minted", presented };
}

/**
 * The caller as far as it is known without I/O: resolved before, or told by the request alone
 * (remembered for the request); else the minted token still to look up.
 */
function principalNow(c: Ctx): Principal | { type: "minted"; presented: string } {
  const known = c.get("principal");
  if (known) return known;
  const caller = callerOf(c);
  if (caller.type !== "minted") c.set("principal", caller);
  return caller;
}

async function lookUpMinted(c: Ctx, presented: string): Promise<Principal> {
  const hashHex = await sha256Hex(presented);
  const { result } = await rememberedLookup(c.env, `token\u0000${hashHex}`, () =>
    c
      .get("backend")
      .read(systemNamespace, { type: "token", hashHex }, { consistency: "linearizable" }),
  );
  if (result.token === null)
    throw unauthorized(
      "the bearer token is unknown or revoked; ask an admin for a token (POST /v1/tokens)",
    );
  const expires = result.token.expiresAtMs;
  if (expires !== undefined && expires <= Date.now()) {
    throw unauthorized(
      `the bearer token ${result.token.id} expired at ${new Date(expires).toISOString()}; ask an admin for a new one`,
    );
  }
  return { type: "token", record: result.token };
}

/** The caller, resolved once per request. */
export async function principalOf(c: Ctx): Promise<Principal> {
  const now = principalNow(c);
  if (now.type !== "minted") return now;
  const principal = await lookUpMinted(c, now.presented);
  c.set("principal", principal);
  return principal;
}

function allows(record: TokenRecord, namespace: string, op: TokenOperation): boolean {
  return record.scopes.some(
    (scope) =>
      (scope.ops.includes(op) || scope.ops.includes("admin")) &&
      scope.namespaces.some((glob) => globMatches(glob, namespace)),
  );
}

async function isPublicRead(c: Ctx, namespace: string): Promise<boolean> {
  const { result } = await rememberedLookup(c.env, `settings\u0000${namespace}`, () =>
    c
      .get("backend")
      .read(
        systemNamespace,
        { type: "namespaceSettings", namespace },
        { consistency: "linearizable" },
      ),
  );
  return result.settings.publicRead;
}

/** Throws 401 unless the caller presented a valid token (any scope). */
export async function authenticated(c: Ctx): Promise<void> {
  if ((await principalOf(c)).type === "anonymous")
    throw unauthorized("send Authorization: Bearer <token>");
}

/**
 * True when the caller may do `op` in any namespace and that is known without I/O (the admin
 * token); false means "ask `authorize`", never "refused". Lets the hottest path (cached polls)
 * skip authorize's promises. Throws 401 for a malformed Authorization header, as authorize does.
 */
export function authorizedNow(c: Ctx, op: TokenOperation): boolean {
  return (op === "read" || adminConfigured(c)) && principalNow(c).type === "admin";
}

/**
 * Throws 401/403/503 unless the caller may do `op` in `namespace`; `namespace` "*" asks for
 * every namespace (token management). Writes ("write", "admin") need a configured ADMIN_TOKEN.
 */
export async function authorize(c: Ctx, namespace: string, op: TokenOperation): Promise<void> {
  if (op !== "read" && !adminConfigured(c)) throw notConfigured();
  const principal = await principalOf(c);
  if (principal.type === "admin") return;
  if (principal.type === "anonymous") {
    if (op === "read" && namespace !== "*" && (await isPublicRead(c, namespace))) return;
    throw unauthorized(
      `send Authorization: Bearer <token> to ${op} ${namespace === "*" ? "tokens" : `namespace ${JSON.stringify(namespace)}`}`,
    );
  }
  const ok =
    namespace === "*"
      ? principal.record.scopes.some((s) => s.ops.includes("admin") && s.namespaces.includes("*"))
      : allows(principal.record, namespace, op);
  if (!ok) {
    throw new ApiProblem({
      status: 403,
      type: problemTypes.forbidden,
      detail:
        `token ${principal.record.id} may not ${op} ${
          namespace === "*"
            ? 'all namespaces (token management needs admin on "*")'
            : `namespace ${JSON.stringify(namespace)}`
        }; ` +
        `its scopes are ${JSON.stringify(principal.record.scopes)}. Ask an admin for a token with that scope`,
    });
  }
}
