// The OpenAPI document describes what the server does: every API test's responses are checked
// against it (api/contract.ts, through `call()`); these tests keep that check honest (it refuses
// answers the document does not describe) and pin what tools rely on in the document itself.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import type { Router } from "../../src/router/types.ts";
import { checkContract } from "./api/contract.ts";
import { base, call, freshNs, problemOf, put, workerEnv } from "./api/helpers.ts";

const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
const entry = {
  key: "app/k",
  contentType: "application/json",
  size: 1,
  version: 1,
  createRevision: 1,
  modRevision: 1,
  updatedAt: new Date(0).toISOString(),
};

describe("the contract check", () => {
  const check = (method: string, path: string, res: Response) =>
    checkContract(base, method, base + path, res);

  it("accepts an answer the document describes", async () => {
    await check("PUT", "/v1/kv/app/a%2Fb", json(entry, 201, { ETag: '"r1"', Location: "/x" }));
  });

  it("refuses a body against its schema, an unlisted status, an undeclared header or type", async () => {
    await expect(check("PUT", "/v1/kv/app/k", json({ ...entry, size: "1" }, 201))).rejects.toThrow(
      /violates the schema/,
    );
    await expect(check("PUT", "/v1/kv/app/k", json(entry, 418))).rejects.toThrow(
      /does not list 418/,
    );
    await expect(
      check("PUT", "/v1/kv/app/k", json(entry, 201, { "X-Edgecfg-Secret": "1" })),
    ).rejects.toThrow(/not declared/);
    const text = new Response("hi", { status: 201, headers: { "Content-Type": "text/plain" } });
    await expect(check("PUT", "/v1/kv/app/k", text)).rejects.toThrow(/not one of/);
    await expect(check("GET", "/v1/nothing", json({}, 200))).rejects.toThrow(/no operation/);
  });
});

describe("GET /v1/openapi.json", () => {
  it("names this deployment as its server, and a key by namespace and %2F-encoded name", async () => {
    const doc = (await (await call("/v1/openapi.json", { token: null })).json()) as {
      servers: Array<{ url: string }>;
      paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>>;
    };
    expect(doc.servers[0]!.url).toBe(base);
    const get = doc.paths["/v1/kv/{namespace}/{name}"]!.get!;
    expect(get.operationId).toBe("getKey");
    expect(get.security).toEqual([{ bearer: [] }, {}]);
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(ops.every((op) => /^[a-zA-Z]+$/.test(op.operationId))).toBe(true);
    // What a generated client sends for the name "a/b": the server takes it as the key app/a/b.
    const ns = freshNs();
    expect((await put(`${ns}/${encodeURIComponent("a/b")}`, { v: 1 })).status).toBe(201);
    expect(await (await call(`/v1/kv/${ns}/a/b`)).json()).toEqual({ v: 1 });
  });
});

describe("GET /docs", () => {
  it("is off unless the deployment sets API_DOCS=on, then an interactive reference of the document", async () => {
    const off = await call("/docs", { token: null });
    expect(off.status).toBe(404);
    expect((await problemOf(off)).detail).toContain("API_DOCS");
    const app = createApp({ router: () => ({}) as Router });
    const on = await app.fetch(
      new Request(`${base}/docs`),
      { ...workerEnv, API_DOCS: "on" },
      createExecutionContext(),
    );
    expect(on.status).toBe(200);
    expect(on.headers.get("Content-Type")).toContain("text/html");
    const page = await on.text();
    expect(page).toContain("/v1/openapi.json");
    expect(page).toContain("edgecfg API reference");
    await checkContract(base, "GET", `${base}/docs`, new Response(page, on));
  });
});
