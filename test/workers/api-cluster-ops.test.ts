// The cluster operation routes over HTTP (src/api/routes/cluster-ops.ts), every answer checked
// against the OpenAPI document by `call`: 202 + Location, ?wait until done, an Idempotency-Key
// replay, 409 for a second operation and for a removal that costs the quorum, 404 and 400, admin only.
import { describe, expect, it } from "vitest";
import { call, put } from "./api/helpers.ts";

interface Op {
  id: string;
  state: string;
  kind: string;
  added?: string;
  progress: { done: number; total: number };
}
interface Cluster {
  operations: Op[];
  shards: {
    shard: number;
    replicas: { id: string; role: string; voter: boolean; lag: number | null }[];
  }[];
}

const json = (body: unknown) => ({
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

async function cluster(): Promise<Cluster> {
  return (await (await call("/v1/cluster")).json()) as Cluster;
}

describe("cluster operations over HTTP", { timeout: 60_000 }, () => {
  it("adds a replica: 202 with the operation, ?wait returns it done, /v1/cluster lists it", async () => {
    await put("ops-a/k", "1");
    const shard = (await cluster()).shards[1]!.shard;
    const res = await call(`/v1/cluster/shards/${shard}/replicas`, {
      method: "POST",
      ...json({ location: "" }),
      headers: { "Content-Type": "application/json", "Idempotency-Key": "add-1" },
    });
    expect(res.status).toBe(202);
    const op = (await res.json()) as Op;
    expect(res.headers.get("Location")).toBe(`/v1/cluster/operations/${op.id}`);
    expect(op).toMatchObject({ kind: "addReplica", state: "running" });
    const again = await call(`/v1/cluster/shards/${shard}/replicas`, {
      method: "POST",
      body: JSON.stringify({ location: "" }),
      headers: { "Content-Type": "application/json", "Idempotency-Key": "add-1" },
    });
    expect(((await again.json()) as Op).id).toBe(op.id);
    const second = await call(`/v1/cluster/shards/${shard}/replicas`, {
      method: "POST",
      ...json({ location: "" }),
    });
    if (second.status === 409) expect(await second.text()).toContain(op.id);
    else expect(second.status).toBe(202); // the first one already finished: a second add began
    const done = (await (await call(`/v1/cluster/operations/${op.id}?wait=20s`)).json()) as Op;
    expect(done).toMatchObject({ state: "done", progress: { done: 3, total: 3 } });
    const replicas = (await cluster()).shards.find((s) => s.shard === shard)!.replicas;
    expect(replicas.map((r) => r.id)).toContain(done.added);
    expect(replicas.find((r) => r.id === done.added)!.voter).toBe(true);
    if (second.status === 202) {
      const id = ((await second.json()) as Op).id;
      expect(
        ((await (await call(`/v1/cluster/operations/${id}?wait=20s`)).json()) as Op).state,
      ).toBe("done");
    }
  });

  it("moves the leader (200 when it already leads) and refuses a removal that leaves two voters", async () => {
    await put("ops-b/k", "1");
    const shard = (await cluster()).shards.find((s) =>
      s.replicas.some((r) => r.role === "leader"),
    )!;
    const leader = shard.replicas.find((r) => r.role === "leader")!.id;
    const to = shard.replicas.find((r) => r.role !== "leader")!.id;
    const moved = await call(`/v1/cluster/shards/${shard.shard}/leader`, {
      method: "POST",
      ...json({ to }),
    });
    expect(moved.status).toBe(202);
    const op = (await moved.json()) as Op;
    expect(
      ((await (await call(`/v1/cluster/operations/${op.id}?wait=20s`)).json()) as Op).state,
    ).toBe("done");
    const noop = await call(`/v1/cluster/shards/${shard.shard}/leader`, {
      method: "POST",
      ...json({ to }),
    });
    expect(noop.status).toBe(200);
    const removal = await call(
      `/v1/cluster/shards/${shard.shard}/replicas/${encodeURIComponent(leader)}`,
      {
        method: "DELETE",
      },
    );
    expect(removal.status).toBe(409);
    expect(await removal.text()).toMatch(/fewer than three/);
  });

  it("404 for an unknown shard or replica and operation, 400 for an unknown location, 403 without admin", async () => {
    expect(
      (await call("/v1/cluster/shards/900/replicas", { method: "POST", ...json({ location: "" }) }))
        .status,
    ).toBe(404);
    expect(
      (await call("/v1/cluster/shards/0/replicas/nope/replace", { method: "POST", ...json({}) }))
        .status,
    ).toBe(404);
    expect(
      (
        await call("/v1/cluster/shards/0/replicas", {
          method: "POST",
          ...json({ location: "mars" }),
        })
      ).status,
    ).toBe(400);
    expect((await call("/v1/cluster/operations/op-nope")).status).toBe(404);
    expect(
      (
        await call("/v1/cluster/shards/0/replicas", {
          method: "POST",
          ...json({ location: "" }),
          token: null,
        })
      ).status,
    ).toBe(401);
  });

  it("reshard: 200 with a finished operation for the ring it has, 400 for a bad count, 401 without a token", async () => {
    const shards = ((await (await call("/v1/cluster")).json()) as { ring: { shards: number } }).ring
      .shards;
    const same = await call("/v1/cluster/reshard", { method: "POST", ...json({ shards }) });
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({
      kind: "reshard",
      state: "done",
      reshard: { fromShards: shards, toShards: shards, moved: 0 },
    });
    for (const body of [{ shards: 0 }, { shards: "3" }, { shards: 2.5 }, {}])
      expect((await call("/v1/cluster/reshard", { method: "POST", ...json(body) })).status).toBe(
        400,
      );
    const anonymous = { method: "POST", ...json({ shards: 3 }), token: null };
    expect((await call("/v1/cluster/reshard", anonymous)).status).toBe(401);
  });
});
