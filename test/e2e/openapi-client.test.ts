// A client generated from the OpenAPI document (openapi-typescript types, openapi-fetch calls)
// runs the README's flow against the store served as `npm start` serves it: if the document and
// the server disagree on a path, a parameter, a body or a status, this fails (and tsc fails when
// the flow no longer type-checks against the document). `npm run contract` regenerates the types.
import createClient from "openapi-fetch";
import { expect, inject, it } from "vitest";
import type { paths } from "./generated/edgecfg-api.ts";

const client = createClient<paths>({
  baseUrl: inject("e2eUrl"),
  headers: { Authorization: `Bearer ${inject("e2eAdminToken")}` },
});
const namespace = `gen-${Date.now().toString(36)}`;
const key = (name: string) => ({ path: { namespace, name } });

/** A write's answer: the document says a ?dryRun=true answer has another body at that status. */
function real<T extends object>(data: T | undefined): Exclude<T, { dryRun: true }> | undefined {
  if (data !== undefined && "dryRun" in data) throw new Error("a dry run answered a real write");
  return data as Exclude<T, { dryRun: true }> | undefined;
}

it("runs the README flow: put, read, compare-and-set, history, list, bundle, txn, delete, tokens", async () => {
  const created = await client.PUT("/v1/kv/{namespace}/{name}", {
    params: key("flags"),
    body: { beta: true, maxItems: 20 },
  });
  expect(created.response.status).toBe(201);
  expect(real(created.data)?.version).toBe(1);
  const etag = created.response.headers.get("ETag")!;

  const read = await client.GET("/v1/kv/{namespace}/{name}", { params: key("flags") });
  expect(read.data).toEqual({ beta: true, maxItems: 20 });

  // Compare-and-set: the current ETag writes, the old one is a 412 with the current ETag.
  const cas = await client.PUT("/v1/kv/{namespace}/{name}", {
    params: { ...key("flags"), header: { "if-match": etag } },
    body: { beta: false },
  });
  expect(cas.response.status).toBe(200);
  const stale = await client.PUT("/v1/kv/{namespace}/{name}", {
    params: { ...key("flags"), header: { "if-match": etag } },
    body: { beta: true },
  });
  expect(stale.response.status).toBe(412);
  expect(stale.error?.currentETag).toBe(cas.response.headers.get("ETag"));

  // A name with "/" is one path parameter: openapi-fetch sends it as %2F.
  const nested = await client.PUT("/v1/kv/{namespace}/{name}", {
    params: key("rollout/eu"),
    body: 10,
  });
  expect(real(nested.data)?.key).toBe(`${namespace}/rollout/eu`);

  const meta = await client.GET("/v1/kv/{namespace}/{name}", {
    params: { ...key("flags"), query: { meta: true } },
  });
  expect(meta.data).toMatchObject({ key: `${namespace}/flags`, version: 2 });
  const history = await client.GET("/v1/kv/{namespace}/{name}/history", { params: key("flags") });
  expect(history.data?.items.map((i) => i.version)).toEqual([2, 1]);

  const list = await client.GET("/v1/kv", {
    params: { query: { prefix: `${namespace}/`, values: true, limit: 10 } },
  });
  expect(list.data?.items.map((i) => i.key)).toEqual([
    `${namespace}/flags`,
    `${namespace}/rollout/eu`,
  ]);
  const bundle = await client.GET("/v1/ns/{namespace}", { params: { path: { namespace } } });
  expect(bundle.data?.entries).toEqual({ flags: { beta: false }, "rollout/eu": 10 });

  const txn = await client.POST("/v1/txn", {
    body: {
      compare: [{ key: `${namespace}/flags`, target: "version", op: "=", value: 2 }],
      success: [{ type: "put", key: `${namespace}/rollout/eu`, value: 20 }],
      failure: [{ type: "get", key: `${namespace}/flags` }],
    },
  });
  expect(real(txn.data)?.succeeded).toBe(true);

  const gone = await client.DELETE("/v1/kv/{namespace}/{name}", {
    params: { ...key("rollout/eu"), header: { "if-match": '"nope"' } },
  });
  expect(gone.response.status).toBe(412);
  expect(
    (await client.DELETE("/v1/kv/{namespace}/{name}", { params: key("rollout/eu") })).response
      .status,
  ).toBe(204);

  const minted = await client.POST("/v1/tokens", {
    body: { scopes: [{ namespaces: [namespace], ops: ["read"] }], expiresInSeconds: 3600 },
  });
  expect(minted.data?.expired).toBe(false);
  const settings = await client.PUT("/v1/ns/{namespace}/settings", {
    params: { path: { namespace } },
    body: { publicRead: true },
  });
  expect(settings.data).toEqual({ namespace, publicRead: true, schemas: {} });
  expect((await client.GET("/v1/cluster")).data?.shards.length).toBeGreaterThan(0);
  expect((await client.GET("/healthz")).data).toEqual({ ok: true });
});

it("publishes safely: plans an apply (dry run), applies it onto its base revision, rolls back", async () => {
  const ns = `${namespace}-pub`;
  const body = {
    entries: { flags: { beta: true }, motd: { contentType: "text/plain", base64: "aGk=" } },
  };
  const plan = await client.POST("/v1/ns/{namespace}/apply", {
    params: { path: { namespace: ns }, query: { dryRun: true } },
    body,
  });
  expect(plan.response.headers.get("X-Edgecfg-Dry-Run")).toBe("true");
  if (plan.data === undefined || !("dryRun" in plan.data)) throw new Error("expected a dry run");
  expect(plan.data.diff.map((d) => d.change)).toEqual(["create", "create"]);
  const applied = await client.POST("/v1/ns/{namespace}/apply", {
    params: { path: { namespace: ns } },
    body: { ...body, ifRevision: plan.data.baseRevision },
  });
  const done = real(applied.data);
  expect(done?.changed).toBe(true);
  const stale = await client.POST("/v1/ns/{namespace}/apply", {
    params: { path: { namespace: ns } },
    body: { entries: {}, prune: true, ifRevision: plan.data.baseRevision },
  });
  expect(stale.response.status).toBe(412);
  expect(stale.error?.namespaceRevision).toBe(done?.revision);
  await client.POST("/v1/ns/{namespace}/apply", {
    params: { path: { namespace: ns } },
    body: { entries: {}, prune: true },
  });
  const back = await client.POST("/v1/ns/{namespace}/rollback", {
    params: { path: { namespace: ns } },
    body: { toRevision: done!.revision },
  });
  expect(real(back.data)?.changes.map((c) => c.change)).toEqual(["created", "created"]);
});
