// Administration: scoped tokens and cluster status. Tokens are shown once, at creation.
import type { ClientContext } from "./context.ts";
import { call, type CallOptions } from "./http.ts";
import type {
  CreatedToken,
  NamespaceSettings,
  NamespaceSettingsChange,
  TokenCreateRequest,
  TokenInfo,
} from "./types.ts";

export async function createToken(
  ctx: ClientContext,
  request: TokenCreateRequest,
  options: CallOptions = {},
): Promise<CreatedToken> {
  // Minting is not deduplicated by the server, so a retry after a lost answer could mint twice:
  // never retried.
  return ctx.http.send(
    {
      method: "POST",
      path: "/v1/tokens",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      retry: false,
      ...call(options),
    },
    async (res) => (await res.json()) as CreatedToken,
  );
}

export async function listTokens(
  ctx: ClientContext,
  options: CallOptions = {},
): Promise<TokenInfo[]> {
  return ctx.http.send({ method: "GET", path: "/v1/tokens", ...call(options) }, async (res) => {
    const body = (await res.json()) as TokenInfo[] | { tokens?: TokenInfo[]; items?: TokenInfo[] };
    return Array.isArray(body) ? body : (body.tokens ?? body.items ?? []);
  });
}

export async function revokeToken(
  ctx: ClientContext,
  id: string,
  options: CallOptions = {},
): Promise<void> {
  const headers = { "idempotency-key": crypto.randomUUID() };
  await ctx.http.send(
    { method: "DELETE", path: "/v1/tokens/" + encodeURIComponent(id), headers, ...call(options) },
    async (res) => void (await res.body?.cancel()),
  );
}

export async function cluster(ctx: ClientContext, options: CallOptions = {}): Promise<unknown> {
  return ctx.http.send({ method: "GET", path: "/v1/cluster", ...call(options) }, async (res) =>
    res.json(),
  );
}

const settingsPath = (namespace: string) => `/v1/ns/${encodeURIComponent(namespace)}/settings`;

export async function namespaceSettings(
  ctx: ClientContext,
  namespace: string,
  options: CallOptions = {},
): Promise<NamespaceSettings> {
  return ctx.http.send(
    { method: "GET", path: settingsPath(namespace), ...call(options) },
    async (res) => (await res.json()) as NamespaceSettings,
  );
}

/** Settings are set to what is given, so a retry after a lost answer sets the same again. */
export async function setNamespaceSettings(
  ctx: ClientContext,
  namespace: string,
  change: NamespaceSettingsChange,
  options: { force?: boolean } & CallOptions = {},
): Promise<NamespaceSettings> {
  const { force, ...rest } = options;
  return ctx.http.send(
    {
      method: "PUT",
      path: settingsPath(namespace) + (force ? "?force=true" : ""),
      headers: { "content-type": "application/json" },
      body: JSON.stringify(change),
      ...call(rest),
    },
    async (res) => (await res.json()) as NamespaceSettings,
  );
}
