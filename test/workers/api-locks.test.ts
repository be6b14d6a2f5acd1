// Leases and locks over HTTP (http-api.md "Leases and locks"): grant, keep-alive, inspect,
// revoke with attached keys, locks FIFO with a long-poll wait, fencing tokens, fenced writes.
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

const json = { "Content-Type": "application/json" };

async function grant(namespace: string, ttlSeconds = 30): Promise<string> {
  const res = await call("/v1/leases", {
    method: "POST",
    headers: json,
    body: JSON.stringify({ namespace, ttlSeconds }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

function acquire(ns: string, name: string, lease: string, wait?: number) {
  return call(`/v1/locks/${ns}/${name}`, {
    method: "POST",
    headers: json,
    body: JSON.stringify(wait === undefined ? { lease } : { lease, wait }),
  });
}

type Held = { lock: string; lease: string; fencingToken: number };

describe("leases", () => {
  it("grant, keep alive, show with attached keys, revoke deletes them", async () => {
    const ns = freshNs();
    const res = await call("/v1/leases", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ namespace: ns, ttlSeconds: 10 }),
    });
    const lease = (await res.json()) as Record<string, unknown>;
    expect(lease).toMatchObject({ namespace: ns, ttlSeconds: 10 });
    const id = lease.id as string;
    const expiresMs = Date.parse(lease.expiresAt as string);
    expect(expiresMs).toBeGreaterThan(Date.now() + 8_000);
    expect((await put(`${ns}/svc`, "up", { "X-Edgecfg-Lease": id })).status).toBe(201);
    expect((await put(`${ns}/kept`, "stays")).status).toBe(201);
    const kept = await call(`/v1/leases/${id}/keepalive`, { method: "POST" });
    expect(kept.status).toBe(200);
    expect(Object.keys(await kept.json()).sort()).toEqual(["expiresAt", "id", "ttlSeconds"]);
    const shown = await call(`/v1/leases/${id}`);
    expect(await shown.json()).toMatchObject({ id, namespace: ns, keys: [`${ns}/svc`] });
    expect((await call(`/v1/leases/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/v1/kv/${ns}/svc`)).status).toBe(404);
    expect((await call(`/v1/kv/${ns}/kept`)).status).toBe(200);
    for (const [path, method] of [
      [`/v1/leases/${id}`, "GET"],
      [`/v1/leases/${id}/keepalive`, "POST"],
      [`/v1/leases/${id}`, "DELETE"],
    ] as const) {
      expect((await call(path, { method })).status).toBe(404);
    }
  });

  it("refuses a TTL out of 2..86400 s and a key of another namespace", async () => {
    const ns = freshNs();
    for (const ttlSeconds of [1, 86_401]) {
      const body = JSON.stringify({ namespace: ns, ttlSeconds });
      const res = await call("/v1/leases", { method: "POST", headers: json, body });
      expect(res.status).toBe(400);
    }
    const id = await grant(ns);
    const other = await put(`${freshNs()}/x`, "1", { "X-Edgecfg-Lease": id });
    expect(other.status).toBe(400);
    expect((await put(`${ns}/x`, "1", { "X-Edgecfg-Lease": `${ns}~999999` })).status).toBe(400);
  });
});

describe("locks", () => {
  it("acquire, 409 while held, inspect, release with the token; tokens increase", async () => {
    const ns = freshNs();
    const [a, b] = [await grant(ns), await grant(ns)];
    const first = await acquire(ns, "mig", a);
    expect(first.status).toBe(200);
    const held = (await first.json()) as Held;
    expect(held).toMatchObject({ lock: `${ns}/mig`, lease: a });
    const busy = await acquire(ns, "mig", b);
    expect(busy.status).toBe(409);
    expect((await problemOf(busy)).retryAfter).toBeGreaterThan(0);
    const shown = await call(`/v1/locks/${ns}/mig`);
    expect(await shown.json()).toMatchObject({ ...held, acquiredAt: expect.any(String) });
    const wrong = await call(`/v1/locks/${ns}/mig`, {
      method: "DELETE",
      headers: { "X-Edgecfg-Fencing-Token": String(held.fencingToken + 1) },
    });
    expect(wrong.status).toBe(412);
    expect((await problemOf(wrong)).type).toMatch(/\/fenced$/);
    const release = await call(`/v1/locks/${ns}/mig`, {
      method: "DELETE",
      headers: { "X-Edgecfg-Fencing-Token": String(held.fencingToken) },
    });
    expect(release.status).toBe(204);
    expect((await call(`/v1/locks/${ns}/mig`)).status).toBe(404);
    const again = (await (await acquire(ns, "mig", b)).json()) as Held;
    expect(again.fencingToken).toBeGreaterThan(held.fencingToken);
  });

  it("waiters acquire first come first served as the holder releases", async () => {
    const ns = freshNs();
    const [a, b, c] = [await grant(ns), await grant(ns), await grant(ns)];
    const held = (await (await acquire(ns, "L", a)).json()) as Held;
    const second = acquire(ns, "L", b, 20);
    await queued();
    const third = acquire(ns, "L", c, 20);
    await queued();
    await call(`/v1/leases/${a}`, { method: "DELETE" }); // ends a's lease: the lock passes on
    const gotB = (await (await second).json()) as Held;
    expect(gotB.lease).toBe(b);
    expect(gotB.fencingToken).toBeGreaterThan(held.fencingToken);
    await call(`/v1/locks/${ns}/L`, {
      method: "DELETE",
      headers: { "X-Edgecfg-Fencing-Token": String(gotB.fencingToken) },
    });
    const gotC = (await (await third).json()) as Held;
    expect(gotC.lease).toBe(c);
    expect(gotC.fencingToken).toBeGreaterThan(gotB.fencingToken);
  });

  it("a wait that ends first is 409 and leaves the queue", async () => {
    const ns = freshNs();
    const [a, b] = [await grant(ns), await grant(ns)];
    const held = (await (await acquire(ns, "L", a)).json()) as Held;
    const late = await acquire(ns, "L", b, 0.3);
    expect(late.status).toBe(409);
    await call(`/v1/locks/${ns}/L`, {
      method: "DELETE",
      headers: { "X-Edgecfg-Fencing-Token": String(held.fencingToken) },
    });
    expect((await call(`/v1/locks/${ns}/L`)).status).toBe(404); // b did not get it
  });

  it("fenced PUT, DELETE and txn: applied while the token holds, 412 /fenced after", async () => {
    const ns = freshNs();
    const [a, b] = [await grant(ns), await grant(ns)];
    const stale = (await (await acquire(ns, "L", a)).json()) as Held;
    const fenceA = { "X-Edgecfg-Fence": `${ns}/L=${stale.fencingToken}` };
    expect((await put(`${ns}/x`, "from a", fenceA)).status).toBe(201);
    await call(`/v1/leases/${a}`, { method: "DELETE" }); // a "paused past its lease"
    const fresh = (await (await acquire(ns, "L", b)).json()) as Held;
    const refused = await put(`${ns}/x`, "late a", fenceA);
    expect(refused.status).toBe(412);
    const problem = await problemOf(refused);
    expect(problem.type).toMatch(/\/fenced$/);
    expect(problem.holderToken).toBe(fresh.fencingToken);
    expect((await call(`/v1/kv/${ns}/x`, { method: "DELETE", headers: fenceA })).status).toBe(412);
    const txn = await call("/v1/txn", {
      method: "POST",
      headers: { ...json, ...fenceA },
      body: JSON.stringify({ compare: [], success: [{ type: "put", key: `${ns}/x`, value: 1 }] }),
    });
    expect(txn.status).toBe(412);
    expect(await (await call(`/v1/kv/${ns}/x`)).text()).toBe("from a");
    const fenceB = { "X-Edgecfg-Fence": `${ns}/L=${fresh.fencingToken}` };
    expect((await put(`${ns}/x`, "from b", fenceB)).status).toBe(200);
    const foreign = await put(`${ns}/x`, "?", { "X-Edgecfg-Fence": `${freshNs()}/L=1` });
    expect(foreign.status).toBe(400);
  });
});

/** Time for a started acquire to have queued its lease (its first write is a few ms). */
const queued = () => new Promise((r) => setTimeout(r, 300));
