// /v1/tokens: admins mint scoped tokens (shown once; only a SHA-256 is stored, replicated through
// a store command), list them (no secrets) and revoke them. Token management needs the admin
// operation on every namespace: the ADMIN_TOKEN, or a token with scope {namespaces:["*"], ops:["admin"]}.
import { z } from "@hono/zod-openapi";
import { systemNamespace } from "../../store/index.ts";
import type { TokenRecord } from "../../store/index.ts";
import { commandAudit } from "../audit.ts";
import { authorize } from "../auth.ts";
import { revisionHeader } from "../consistency.ts";
import { apiLimits, storeLimits } from "../limits.ts";
import { outcomeProblem } from "../outcomes.ts";
import { badRequest, notFound } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { headers, problems, stateHeaders } from "../schemas.ts";
import { newTokenId, newTokenSecret, sha256Hex } from "../tokens-crypto.ts";

const Scope = z
  .object({
    namespaces: z
      .array(
        z
          .string()
          .regex(/^[a-z0-9_.*-]{1,63}$/, "must be a namespace name or a glob such as app-* or *")
          .refine(
            (glob) => !glob.startsWith("_"),
            `names the reserved system namespace ${JSON.stringify(systemNamespace)} ` +
              "(names starting with _ hold tokens and settings, which only the token and " +
              "settings endpoints change); name your namespaces, or * for all of them",
          ),
      )
      .min(1)
      .max(64)
      .openapi({ example: ["app", "team-*"] }),
    ops: z
      .array(z.enum(["read", "write", "admin"]))
      .min(1)
      .openapi({ description: "admin implies read and write" }),
  })
  .strict()
  .openapi("TokenScope");

const TokenName = z
  .string()
  .regex(
    new RegExp(`^[\\x20-\\x7e]{1,${storeLimits.tokenNameBytesMax}}$`),
    `must be 1 to ${storeLimits.tokenNameBytesMax} printable ASCII characters`,
  )
  .openapi({
    description: "Who holds it, shown as the actor of its writes (GET /v1/audit, history)",
    example: "ci-deploy",
  });

const MintRequest = z
  .object({
    scopes: z.array(Scope).min(1).max(storeLimits.tokenScopesMax),
    expiresInSeconds: z.number().int().min(1).max(apiLimits.tokenTtlSecondsMax).optional(),
    name: TokenName.optional(),
  })
  .strict()
  .openapi("TokenMintRequest");

const TokenInfo = z
  .object({
    id: z.string(),
    name: z.string().nullable().openapi({ description: "As minted; null when none was given" }),
    scopes: z.array(Scope),
    createdAt: z.string().openapi({ format: "date-time" }),
    expiresAt: z.string().nullable().openapi({ format: "date-time" }),
    expired: z
      .boolean()
      .openapi({ description: "Past expiresAt: the token is refused (401); revoke it to tidy up" }),
  })
  .openapi("Token");

const Minted = TokenInfo.extend({
  token: z.string().openapi({ description: "The bearer token. Shown once: store it now" }),
}).openapi("MintedToken");

function info(t: TokenRecord, nowMs: number) {
  return {
    id: t.id,
    name: t.name ?? null,
    scopes: t.scopes,
    createdAt: new Date(t.createdAtMs).toISOString(),
    expiresAt: t.expiresAtMs === undefined ? null : new Date(t.expiresAtMs).toISOString(),
    expired: t.expiresAtMs !== undefined && t.expiresAtMs <= nowMs,
  };
}

export const tokenMint = defineRoute({
  method: "post",
  path: "/v1/tokens",
  operationId: "mintToken",
  tags: ["tokens"],
  summary: "Mint a scoped token (admin)",
  description:
    "Scopes name namespaces (or globs, * = any characters) and operations. The token is in the response " +
    "only; the store keeps its SHA-256.",
  query: z.object({}).strict(),
  body: MintRequest,
  bodyBytesMax: apiLimits.smallBodyBytesMax,
  responses: {
    201: {
      description: "Minted",
      content: { "application/json": { schema: Minted } },
      headers: headers("X-Edgecfg-Revision", "Cache-Control"),
    },
    ...problems(409, 507),
  },
  handler: async (c, { body }) => {
    await authorize(c, "*", "admin");
    const secret = newTokenSecret();
    const now = Date.now();
    const record: TokenRecord = {
      id: newTokenId(),
      hashHex: await sha256Hex(secret),
      scopes: body.scopes,
      createdAtMs: now,
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.expiresInSeconds === undefined
        ? {}
        : { expiresAtMs: now + body.expiresInSeconds * 1000 }),
    };
    const { outcome, token } = await c.get("router").write(systemNamespace, {
      type: "tokenCreate",
      atMs: now,
      audit: commandAudit(c),
      ...record,
    });
    if (outcome.type !== "tokenCreated")
      throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
    return c.json({ ...info(outcome.token, now), token: secret }, 201, {
      [revisionHeader]: token,
      "Cache-Control": "no-store",
    });
  },
});

export const tokenList = defineRoute({
  method: "get",
  path: "/v1/tokens",
  operationId: "listTokens",
  tags: ["tokens"],
  summary: "List tokens (admin; no secrets)",
  query: z.object({}).strict(),
  responses: {
    200: {
      description: "Tokens",
      content: { "application/json": { schema: z.object({ tokens: z.array(TokenInfo) }) } },
      headers: headers(...stateHeaders),
    },
    ...problems(),
  },
  handler: async (c) => {
    await authorize(c, "*", "admin");
    const read = await c
      .get("router")
      .read(systemNamespace, { type: "tokens" }, { consistency: "linearizable" });
    const now = Date.now();
    return c.json({ tokens: read.result.tokens.map((t) => info(t, now)) }, 200, {
      [revisionHeader]: read.token,
    });
  },
});

export const tokenRevoke = defineRoute({
  method: "delete",
  path: "/v1/tokens/{id}",
  operationId: "revokeToken",
  tags: ["tokens"],
  summary: "Revoke a token (admin)",
  params: z.object({
    id: z.string().openapi({ param: { name: "id", in: "path" }, example: "tok_0123456789abcdef" }),
  }),
  query: z.object({}).strict(),
  responses: {
    204: { description: "Revoked", headers: headers(...stateHeaders) },
    ...problems(404),
  },
  handler: async (c) => {
    await authorize(c, "*", "admin");
    const id = c.req.param("id") ?? "";
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id))
      throw badRequest(
        `token id ${JSON.stringify(id)} is malformed; ids look like tok_0123456789abcdef`,
      );
    const { outcome, token } = await c.get("router").write(systemNamespace, {
      type: "tokenRevoke",
      atMs: Date.now(),
      audit: commandAudit(c),
      id,
    });
    if (outcome.type === "notFound") throw notFound(`no token ${id}; GET /v1/tokens lists them`);
    if (outcome.type !== "tokenRevoked")
      throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
    return c.body(null, 204, { [revisionHeader]: token });
  },
});
