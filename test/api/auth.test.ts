// Authentication and authorization (src/api/auth.ts) in Node, on a Hono app with a fake backend
// that counts its lookups: the Bearer header's grammar, the admin token only when configured,
// expiry to the millisecond, scopes one by one, anonymous reads of public namespaces only, and
// one lookup per request however often a route asks.
import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authenticated, authorize, authorizedNow, principalOf } from "../../src/api/auth.ts";
import type { ApiBindings, AppEnv } from "../../src/api/context.ts";
import { ApiProblem } from "../../src/api/problem.ts";
import { sha256Hex } from "../../src/api/tokens-crypto.ts";
import type { Router } from "../../src/router/index.ts";
import type { TokenRecord, TokenScope } from "../../src/store/index.ts";

afterEach(() => vi.useRealTimers());

interface Fake {
  tokens: Map<string, TokenRecord>;
  publicRead: Set<string>;
  lookups: string[];
}

/** An app whose one route runs `check` and answers 204, or the ApiProblem's status and detail. */
function appWith(check: (c: Parameters<typeof authorize>[0]) => Promise<unknown> | unknown) {
  const fake: Fake = { tokens: new Map(), publicRead: new Set(), lookups: [] };
  const backend = {
    read: async (_ns: string, query: { type: string; hashHex?: string; namespace?: string }) => {
      fake.lookups.push(query.type);
      if (query.type === "token")
        return { result: { token: fake.tokens.get(query.hashHex!) ?? null } };
      return { result: { settings: { publicRead: fake.publicRead.has(query.namespace!) } } };
    },
  } as unknown as Router;
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("backend", backend);
    await next();
  });
  app.get("/", async (c) => {
    try {
      const out = await check(c);
      return c.json({ out: out ?? null }, 200);
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      return c.json(
        {
          detail: error.init.detail,
          headers: error.init.headers ?? {},
          extensions: error.init.extensions ?? {},
        },
        error.init.status as 401,
      );
    }
  });
  const call = async (authorization: string | undefined, env: ApiBindings) => {
    const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
    const res = await app.request("/", { headers }, env);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  /** Registers a minted token; returns its secret. */
  const mint = async (scopes: TokenScope[], extra: Partial<TokenRecord> = {}) => {
    const secret = `ecfg_${Math.random().toString(36).slice(2)}`;
    const hashHex = await sha256Hex(secret);
    fake.tokens.set(hashHex, {
      id: `tok-${fake.tokens.size}`,
      hashHex,
      scopes,
      createdAtMs: 0,
      ...extra,
    });
    return secret;
  };
  return { fake, call, mint };
}

/** A fresh bindings object: remembered lookups are kept per bindings object. */
const configured = (): ApiBindings => ({ ADMIN_TOKEN: "the-admin-secret" });

describe("the Authorization header", () => {
  it("Bearer is case-insensitive and may be followed by several spaces; other schemes are 401 with a challenge", async () => {
    const { call } = appWith((c) => principalOf(c));
    for (const header of [
      "Bearer the-admin-secret",
      "bearer the-admin-secret",
      "BEARER   the-admin-secret",
      "  Bearer the-admin-secret  ",
    ]) {
      expect((await call(header, configured())).body.out, header).toEqual({ type: "admin" });
    }
    for (const header of [
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer ",
      "Bearerthe-admin-secret",
      "Bearer a b",
      "Bearer tok\u00e9n",
      "xBearer the-admin-secret",
      "Token Bearer the-admin-secret",
    ]) {
      const res = await call(header, configured());
      expect(res.status, header).toBe(401);
      expect(res.body.detail).toBe("the Authorization header must be `Bearer <token>`");
      expect(res.body.headers).toEqual({ "WWW-Authenticate": 'Bearer realm="edgecfg"' });
    }
  });

  it("a token of up to 512 characters is looked up; a longer one is malformed", async () => {
    const { call, fake } = appWith((c) => principalOf(c));
    expect((await call(`Bearer ${"x".repeat(512)}`, configured())).status).toBe(401);
    expect(fake.lookups).toEqual(["token"]); // looked up, unknown
    const long = await call(`Bearer ${"x".repeat(513)}`, configured());
    expect(long.body.detail).toContain("must be `Bearer <token>`");
    expect(fake.lookups).toEqual(["token"]);
  });

  it("no header is anonymous; authenticated() refuses it with what to send", async () => {
    const { call } = appWith((c) => principalOf(c));
    expect((await call(undefined, configured())).body.out).toEqual({ type: "anonymous" });
    const { call: strict } = appWith((c) => authenticated(c));
    const res = await strict(undefined, configured());
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe("send Authorization: Bearer <token>");
    expect((await strict("Bearer the-admin-secret", configured())).status).toBe(200);
  });
});

describe("the admin token", () => {
  it("is the admin only when ADMIN_TOKEN is set: unset or empty, the same header is a minted token to look up", async () => {
    const { call, fake } = appWith((c) => principalOf(c));
    expect((await call("Bearer the-admin-secret", configured())).body.out).toEqual({
      type: "admin",
    });
    expect(fake.lookups).toEqual([]);
    expect((await call("Bearer the-admin-secret", {})).status).toBe(401);
    expect((await call("Bearer the-admin-secret", { ADMIN_TOKEN: "" })).status).toBe(401);
    expect(fake.lookups).toEqual(["token", "token"]);
  });

  it("without ADMIN_TOKEN every write is 503 with the fix, before any lookup; reads are still checked", async () => {
    const { call, fake } = appWith((c) => authorize(c, "app", "write"));
    const res = await call("Bearer whatever", {});
    expect(res.status).toBe(503);
    expect(res.body.detail).toMatch(
      /^this deployment has no ADMIN_TOKEN secret, so every write is refused/,
    );
    expect(res.body.detail).toContain("wrangler secret put ADMIN_TOKEN");
    expect(res.body.detail).toMatch(/use the development token "dev-admin-token"$/);
    expect(res.body.headers).toEqual({ "Retry-After": "3600" });
    expect(res.body.extensions).toEqual({ retryAfter: 3600 });
    expect(fake.lookups).toEqual([]);
    const { call: admin } = appWith((c) => authorize(c, "app", "admin"));
    expect((await admin("Bearer the-admin-secret", { ADMIN_TOKEN: "" })).status).toBe(503);
    const { call: read, fake: readFake } = appWith((c) => authorize(c, "app", "read"));
    readFake.publicRead.add("app");
    expect((await read(undefined, {})).status).toBe(200);
  });

  it("authorizedNow is true only for the configured admin token, and never does I/O", async () => {
    const { call, fake, mint } = appWith((c) => authorizedNow(c, "read"));
    expect((await call("Bearer the-admin-secret", configured())).body.out).toBe(true);
    expect((await call(undefined, configured())).body.out).toBe(false);
    const token = await mint([{ namespaces: ["*"], ops: ["admin"] }]);
    expect((await call(`Bearer ${token}`, configured())).body.out).toBe(false);
    expect(fake.lookups).toEqual([]);
    const { call: write } = appWith((c) => authorizedNow(c, "write"));
    expect((await write("Bearer the-admin-secret", configured())).body.out).toBe(true);
    expect((await write("Bearer x", configured())).body.out).toBe(false);
    expect((await write("Bad header", configured())).status).toBe(401);
  });
});

describe("minted tokens", () => {
  it("expire at expiresAtMs exactly: valid one millisecond before, 401 naming the token and the time at it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { call, mint } = appWith((c) => principalOf(c));
    const token = await mint([{ namespaces: ["app"], ops: ["read"] }], { expiresAtMs: 1_000_000 });
    vi.setSystemTime(999_999);
    expect((await call(`Bearer ${token}`, configured())).body.out).toMatchObject({ type: "token" });
    vi.setSystemTime(1_000_000);
    const res = await call(`Bearer ${token}`, { ADMIN_TOKEN: "another-env" });
    expect(res.status).toBe(401);
    expect(res.body.detail).toContain("expired at 1970-01-01T00:16:40.000Z");
    expect(res.body.detail).toContain("tok-0");
  });

  it("an unknown token is 401 saying how to get one", async () => {
    const { call } = appWith((c) => principalOf(c));
    const res = await call("Bearer ecfg_nope", configured());
    expect(res.status).toBe(401);
    expect(res.body.detail).toContain("unknown or revoked");
    expect(res.body.headers).toEqual({ "WWW-Authenticate": 'Bearer realm="edgecfg"' });
  });

  it("is looked up once per request, however many checks the route makes", async () => {
    const { call, fake, mint } = appWith(async (c) => {
      await authorize(c, "app", "read");
      await authorize(c, "app", "write");
      return principalOf(c);
    });
    const token = await mint([{ namespaces: ["app"], ops: ["read", "write"] }]);
    expect((await call(`Bearer ${token}`, configured())).status).toBe(200);
    expect(fake.lookups).toEqual(["token"]);
  });
});

describe("scopes", () => {
  const cases: [TokenScope[], string, "read" | "write" | "admin", boolean][] = [
    [[{ namespaces: ["app"], ops: ["read"] }], "app", "read", true],
    [[{ namespaces: ["app"], ops: ["read"] }], "app", "write", false],
    [[{ namespaces: ["app"], ops: ["write"] }], "app", "read", false],
    [[{ namespaces: ["app"], ops: ["admin"] }], "app", "write", true],
    [[{ namespaces: ["app"], ops: ["admin"] }], "app", "read", true],
    [[{ namespaces: ["app"], ops: ["admin"] }], "other", "read", false],
    [[{ namespaces: ["app-*"], ops: ["read"] }], "app-1", "read", true],
    [[{ namespaces: ["app-*"], ops: ["read"] }], "app", "read", false],
    [[{ namespaces: ["a", "b"], ops: ["write"] }], "b", "write", true],
    [
      [
        { namespaces: ["a"], ops: ["read"] },
        { namespaces: ["b"], ops: ["write"] },
      ],
      "a",
      "write",
      false,
    ],
    [
      [
        { namespaces: ["a"], ops: ["read"] },
        { namespaces: ["b"], ops: ["write"] },
      ],
      "b",
      "read",
      false,
    ],
    [
      [
        { namespaces: ["a"], ops: ["read"] },
        { namespaces: ["b"], ops: ["write"] },
      ],
      "b",
      "write",
      true,
    ],
    [[{ namespaces: ["*"], ops: ["admin"] }], "*", "admin", true],
    // Token management needs admin even from a token that may write every namespace.
    [[{ namespaces: ["*"], ops: ["write"] }], "*", "write", false],
    [
      [
        { namespaces: ["*"], ops: ["read"] },
        { namespaces: ["a"], ops: ["admin"] },
      ],
      "*",
      "admin",
      false,
    ],
    [[{ namespaces: ["a-*"], ops: ["admin"] }], "*", "admin", false],
    [
      [
        { namespaces: ["*"], ops: ["admin"] },
        { namespaces: ["a"], ops: ["read"] },
      ],
      "*",
      "admin",
      true,
    ],
  ];
  it.each(cases)("%j: %s %s allowed %s", async (scopes, namespace, op, allowed) => {
    const { call, mint } = appWith((c) => authorize(c, namespace, op));
    const res = await call(`Bearer ${await mint(scopes)}`, configured());
    expect(res.status).toBe(allowed ? 200 : 403);
    if (!allowed) {
      expect(res.body.detail).toContain(`token tok-0 may not ${op}`);
      expect(res.body.detail).toContain(JSON.stringify(scopes));
      expect(res.body.detail).toContain(
        namespace === "*"
          ? `may not ${op} all namespaces (token management needs admin on "*")`
          : `may not ${op} namespace ${JSON.stringify(namespace)};`,
      );
    }
  });
});

describe("remembered lookups", () => {
  it("keep tokens and namespace settings apart, and each token apart, in one deployment", async () => {
    const env = configured();
    const { call, fake, mint } = appWith(async (c) => {
      await authorize(c, "pub", "read");
      return principalOf(c);
    });
    fake.publicRead.add("pub");
    const reader = await mint([{ namespaces: ["pub"], ops: ["read"] }]);
    const other = await mint([{ namespaces: ["elsewhere"], ops: ["read"] }]);
    expect((await call(`Bearer ${reader}`, env)).body.out).toMatchObject({
      record: { id: "tok-0" },
    });
    expect((await call(undefined, env)).body.out).toEqual({ type: "anonymous" });
    const refused = await call(`Bearer ${other}`, env);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain("token tok-1");
    const { call: closed } = appWith((c) => authorize(c, "closed", "read"));
    expect((await closed(undefined, env)).status).toBe(401);
  });
});

describe("anonymous callers", () => {
  it("may read a public-read namespace, nothing else; the refusal says what to send", async () => {
    const { call, fake } = appWith((c) => authorize(c, "pub", "read"));
    fake.publicRead.add("pub");
    expect((await call(undefined, configured())).status).toBe(200);
    const { call: write, fake: writeFake } = appWith((c) => authorize(c, "pub", "write"));
    writeFake.publicRead.add("pub");
    const refused = await write(undefined, configured());
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('send Authorization: Bearer <token> to write namespace "pub"');
    expect(writeFake.lookups).toEqual([]);
    const { call: closed } = appWith((c) => authorize(c, "closed", "read"));
    expect((await closed(undefined, configured())).body.detail).toBe(
      'send Authorization: Bearer <token> to read namespace "closed"',
    );
  });

  it('never read "*" (every namespace: the token list), with no settings lookup', async () => {
    const { call, fake } = appWith((c) => authorize(c, "*", "read"));
    fake.publicRead.add("*");
    const res = await call(undefined, configured());
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe("send Authorization: Bearer <token> to read tokens");
    expect(fake.lookups).toEqual([]);
  });
});
