// Commands on the reserved `_sys` area: auth tokens (only their sha-256 is stored) and
// per-namespace settings. They advance the revision like any state change, so a consistency
// token taken after a revoke guarantees that later reads see the revoke.
import { validateNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { StoreState } from "./state.ts";
import type {
  NamespaceSetCommand,
  TokenCreateCommand,
  TokenRecord,
  TokenRevokeCommand,
  WriteOutcome,
} from "./types.ts";
import { invalid } from "./validate.ts";

const tokenIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const sha256HexPattern = /^[0-9a-f]{64}$/;
const tokenNamePattern = new RegExp(`^[\\x20-\\x7e]{1,${storeLimits.tokenNameBytesMax}}$`);

export function applyTokenCreate(state: StoreState, c: TokenCreateCommand): WriteOutcome {
  const error = tokenError(c);
  if (error !== null) return invalid(state, "token", error);
  if (state.tokens.has(c.id) || state.tokenIdsByHash.has(c.hashHex)) {
    return invalid(state, "tokenExists", `a token with id ${c.id} or the same hash already exists`);
  }
  if (state.tokens.size >= state.options.tokensMax) {
    return {
      type: "tooLarge",
      revision: state.revision,
      limit: "tokensMax",
      max: state.options.tokensMax,
      wouldBe: state.tokens.size + 1,
    };
  }
  const token: TokenRecord = {
    id: c.id,
    hashHex: c.hashHex,
    scopes: c.scopes.map((s) => ({ namespaces: [...s.namespaces], ops: [...s.ops] })),
    ...(c.expiresAtMs === undefined ? {} : { expiresAtMs: c.expiresAtMs }),
    createdAtMs: c.createdAtMs,
    ...(c.name === undefined ? {} : { name: c.name }),
  };
  state.revision += 1;
  state.tokens.set(token.id, token);
  state.tokenIdsByHash.set(token.hashHex, token.id);
  return { type: "tokenCreated", revision: state.revision, token };
}

function tokenError(c: TokenCreateCommand): string | null {
  if (!tokenIdPattern.test(c.id)) return "token id must match [A-Za-z0-9_-]{1,64}";
  if (!sha256HexPattern.test(c.hashHex))
    return "token hash must be sha-256 as 64 lowercase hex digits";
  if (c.name !== undefined && !tokenNamePattern.test(c.name))
    return `token name must be 1 to ${storeLimits.tokenNameBytesMax} printable ASCII characters`;
  if (c.scopes.length === 0 || c.scopes.length > storeLimits.tokenScopesMax) {
    return `a token needs 1 to ${storeLimits.tokenScopesMax} scopes`;
  }
  for (const scope of c.scopes) {
    if (scope.namespaces.length === 0 || scope.ops.length === 0)
      return "each scope needs namespaces and ops";
    if (scope.namespaces.some((n) => n.length === 0 || n.length > storeLimits.namespaceBytesMax)) {
      return `scope namespaces must be 1 to ${storeLimits.namespaceBytesMax} characters`;
    }
  }
  return null;
}

export function applyTokenRevoke(state: StoreState, c: TokenRevokeCommand): WriteOutcome {
  const token = state.tokens.get(c.id);
  if (token === undefined) return { type: "notFound", revision: state.revision };
  state.revision += 1;
  state.tokens.delete(c.id);
  state.tokenIdsByHash.delete(token.hashHex);
  return { type: "tokenRevoked", revision: state.revision, id: c.id };
}

export function applyNamespaceSet(state: StoreState, c: NamespaceSetCommand): WriteOutcome {
  const error = validateNamespace(c.namespace);
  if (error !== null) return invalid(state, "namespace", error);
  const settings = { namespace: c.namespace, publicRead: c.publicRead };
  const before = state.namespaceSettings.get(c.namespace)?.publicRead ?? false;
  if (before !== c.publicRead) {
    state.revision += 1;
    // Only non-default settings are kept: equal states then have equal snapshots.
    if (c.publicRead) state.namespaceSettings.set(c.namespace, settings);
    else state.namespaceSettings.delete(c.namespace);
  }
  return { type: "namespaceSet", revision: state.revision, settings };
}
