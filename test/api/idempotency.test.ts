// Idempotency-Key validation and caller scoping (src/api/idempotency.ts; http-api.md,
// "Idempotency"): 1 to 255 printable ASCII characters without spaces, else 400; the store sees
// the key under its caller, so two callers that pick the same key are two requests.
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { AppEnv, Ctx, Principal } from "../../src/api/context.ts";
import { idempotencyKey } from "../../src/api/idempotency.ts";
import { ApiProblem } from "../../src/api/problem.ts";
import { sha256Hex } from "../../src/api/tokens-crypto.ts";
import type { TokenRecord } from "../../src/store/index.ts";

// The router (for its token parser and limits) imports the Durable Objects, which need workerd.
vi.mock("cloudflare:workers", () => ({ DurableObject: class {} }));

type Outcome =
  | { key: string | undefined }
  | { status: number; detail?: string }
  | { error: string };

/** idempotencyKey() on a request with these headers, by this caller (unset: not resolved). */
async function keyOf(headers: Record<string, string>, principal?: Principal): Promise<Outcome> {
  const app = new Hono<AppEnv>();
  let outcome: Outcome = { error: "not run" };
  app.put("/", async (c: Ctx) => {
    if (principal) c.set("principal", principal);
    try {
      outcome = { key: await idempotencyKey(c) };
    } catch (error) {
      outcome =
        error instanceof ApiProblem
          ? { status: error.init.status, detail: error.init.detail }
          : { error: (error as Error).message };
    }
    return c.body(null, 204);
  });
  await app.request("/", { method: "PUT", headers });
  return outcome;
}

const admin: Principal = { type: "admin" };
const token = (id: string): Principal => ({ type: "token", record: { id } as TokenRecord });

const invalid = {
  status: 400,
  detail: "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces, e.g. a UUID",
};

describe("Idempotency-Key validation", () => {
  it("absent is no key", async () => {
    expect(await keyOf({}, admin)).toEqual({ key: undefined });
  });

  it("accepts 1 to 255 printable ASCII characters, the whole range from ! to ~", async () => {
    for (const key of ["k", "!", "~", "0f8c-4e1b_uuid.v4", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]) {
      expect(await keyOf({ "Idempotency-Key": key }, admin), key).toEqual({ key: `admin/${key}` });
    }
    const longest = "k".repeat(255);
    expect(await keyOf({ "Idempotency-Key": longest }, admin)).toEqual({
      key: `admin#${await sha256Hex(longest)}`,
    });
  });

  it("refuses an empty key, a longer one, spaces and characters outside printable ASCII", async () => {
    for (const key of ["", "k".repeat(256), "a b", "a\tb", "caf\u00e9", "a\x7fb", "\x7f"]) {
      expect(await keyOf({ "Idempotency-Key": key }, admin), JSON.stringify(key)).toEqual(invalid);
    }
  });

  it("is only read once the caller is resolved (authorize first)", async () => {
    expect(await keyOf({ "Idempotency-Key": "k" })).toEqual({
      error: "idempotencyKey: the caller is not resolved yet",
    });
  });
});

describe("Idempotency-Key scoping to the caller", () => {
  it("the store sees the key under the token's id, or the admin, so two callers never share one", async () => {
    const headers = { "Idempotency-Key": "deploy-1" };
    expect(await keyOf(headers, token("tok_0123456789abcdef"))).toEqual({
      key: "tok_0123456789abcdef/deploy-1",
    });
    expect(await keyOf(headers, token("tok_fedcba9876543210"))).toEqual({
      key: "tok_fedcba9876543210/deploy-1",
    });
    expect(await keyOf(headers, admin)).toEqual({ key: "admin/deploy-1" });
    expect(await keyOf(headers, { type: "anonymous" })).toEqual({ key: "anonymous/deploy-1" });
  });

  it("a scoped key within 255 characters is kept as is; a longer one is the owner and the key's hash", async () => {
    const fits = "k".repeat(255 - "admin/".length);
    expect(await keyOf({ "Idempotency-Key": fits }, admin)).toEqual({ key: `admin/${fits}` });
    const over = `${fits}k`;
    const hashed = await keyOf({ "Idempotency-Key": over }, admin);
    expect(hashed).toEqual({ key: `admin#${await sha256Hex(over)}` });
    // The hash is of the key alone, under each owner: still one key per caller.
    expect(await keyOf({ "Idempotency-Key": over }, token("tok_1"))).toEqual({
      key: `tok_1#${await sha256Hex(over)}`,
    });
  });
});
