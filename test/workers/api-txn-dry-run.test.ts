// POST /v1/txn?dryRun=true across namespaces on different shards (src/api/routes/txn-dry-run.ts):
// what the txn would do, judged by each shard on its part, and nothing written.
import { describe, expect, it } from "vitest";
import { call, namespacePair, problemOf, put } from "./api/helpers.ts";

const apart = () => namespacePair(["da", "db"]);

function dryTxn(body: unknown) {
  return call("/v1/txn?dryRun=true", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

type DryBody = {
  dryRun: true;
  baseRevision: number;
  baseRevisions: Record<string, number>;
  result: { succeeded: boolean; revisions: Record<string, number>; results: unknown[] };
  diff: Array<{ key: string; change: string; before?: unknown; after?: unknown }>;
};

const text = async (path: string) => (await call(path)).text();

describe("a dry run of a txn across shards", () => {
  it("answers what every shard would do (result, diff, base revisions) and writes nothing", async () => {
    const [a, b] = apart();
    const written = await put(`${a}/x`, 1);
    const before = Number(written.headers.get("ETag")?.replace(/\D/g, ""));
    const res = await dryTxn({
      compare: [{ key: `${a}/x`, target: "value", op: "=", value: 1 }],
      success: [
        { type: "put", key: `${b}/y`, value: 2 },
        { type: "put", key: `${a}/x`, value: 3 },
        { type: "get", key: `${a}/x` },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Edgecfg-Dry-Run")).toBe("true");
    const body = (await res.json()) as DryBody;
    expect(body.dryRun).toBe(true);
    expect(body.result.succeeded).toBe(true);
    expect(Object.keys(body.result.revisions).sort()).toEqual([a, b].sort());
    expect(body.result.results).toMatchObject([
      { type: "put", change: "created" },
      { type: "put", change: "updated" },
      { type: "get", value: 3 },
    ]);
    expect(body.diff).toEqual(
      [
        { key: `${a}/x`, change: "update", before: 1, after: 3 },
        { key: `${b}/y`, change: "create", after: 2 },
      ].sort((p, q) => (p.key < q.key ? -1 : 1)),
    );
    expect(body.baseRevisions[b]).toBe(0);
    expect(body.baseRevision).toBe(body.baseRevisions[a]);
    expect(body.baseRevision).toBe(before);
    // Nothing was written on either shard.
    expect(await text(`/v1/kv/${a}/x`)).toBe("1");
    expect((await call(`/v1/kv/${b}/y`)).status).toBe(404);
  });

  it("a compare that fails on one shard shows the failure branch on every shard", async () => {
    const [a, b] = apart();
    await put(`${a}/x`, 1);
    const res = await dryTxn({
      compare: [{ key: `${b}/y`, target: "exists", op: "=", value: true }],
      success: [{ type: "put", key: `${a}/x`, value: 99 }],
      failure: [
        { type: "put", key: `${b}/y`, value: 0 },
        { type: "delete", key: `${a}/x` },
      ],
    });
    const body = (await res.json()) as DryBody;
    expect([res.status, body.result.succeeded]).toEqual([200, false]);
    expect(body.diff.map((d) => [d.key, d.change])).toEqual(
      [
        [`${a}/x`, "delete"],
        [`${b}/y`, "create"],
      ].sort((p, q) => (p[0]! < q[0]! ? -1 : 1)),
    );
    expect(await text(`/v1/kv/${a}/x`)).toBe("1");
  });

  it("answers the problem the real txn would, marked as a dry run: a schema one shard enforces", async () => {
    const [a, b] = apart();
    const schema = { type: "object", required: ["on"] };
    const set = await call(`/v1/ns/${b}/settings`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ schemas: { "": schema } }),
    });
    expect(set.status).toBe(200);
    const res = await dryTxn({
      compare: [],
      success: [
        { type: "put", key: `${a}/x`, value: 1 },
        { type: "put", key: `${b}/y`, value: { off: true } },
      ],
    });
    const problem = await problemOf(res);
    expect([res.status, problem.type.endsWith("/schema-violation"), problem.dryRun]).toEqual([
      422,
      true,
      true,
    ]);
    expect(res.headers.get("X-Edgecfg-Dry-Run")).toBe("true");
    expect((await call(`/v1/kv/${a}/x`)).status).toBe(404);
  });
});
