// The SDK's leases and locks against the real Worker: keep-alive, withLock's exclusion, fencing
// tokens and fenced writes, the signal on loss.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConflictError, createClient, NotFoundError } from "../../src/client/index.ts";

const token = (env as { ADMIN_TOKEN?: string }).ADMIN_TOKEN ?? "";
const cfg = createClient({
  url: "http://edgecfg.test",
  token,
  fetch: (input, init) => SELF.fetch(new Request(input, init)),
});

let counter = 0;
const freshNs = () => `sdk-lock-${Date.now().toString(36)}-${++counter}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("cfg.lease", { timeout: 20_000 }, () => {
  it("keeps itself alive past its TTL; revoke deletes its keys and fires the signal", async () => {
    const ns = freshNs();
    const lease = await cfg.lease(ns, 2);
    await cfg.put(`${ns}/svc`, "up", { lease: lease.id });
    await sleep(3_500); // past the TTL: only the keep-alives keep it
    expect(await cfg.getText(`${ns}/svc`)).toBe("up");
    expect(lease.signal.aborted).toBe(false);
    await lease.revoke();
    expect(lease.signal.aborted).toBe(true);
    await expect(cfg.getText(`${ns}/svc`)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("cfg.withLock", { timeout: 20_000 }, () => {
  it("excludes: the second holder runs after the first, with a larger token", async () => {
    const ns = freshNs();
    const spans: [number, number, number][] = [];
    const run = () =>
      cfg.withLock(`${ns}/job`, async (hold) => {
        const start = Date.now();
        await cfg.put(`${ns}/out`, `${hold.fencingToken}`, { fence: hold.fence });
        await sleep(300);
        spans.push([start, Date.now(), hold.fencingToken]);
      });
    await Promise.all([run(), run()]);
    spans.sort((a, b) => a[0] - b[0]);
    expect(spans[1]![0]).toBeGreaterThanOrEqual(spans[0]![1]);
    expect(spans[1]![2]).toBeGreaterThan(spans[0]![2]);
  });

  it("a holder's fence is refused once its lock is gone, and its signal fires", async () => {
    const ns = freshNs();
    let stale: { lock: string; token: number } | undefined;
    let signal: AbortSignal | undefined;
    await cfg.withLock(`${ns}/job`, (hold) => {
      stale = hold.fence;
      signal = hold.signal;
    });
    expect(signal?.aborted).toBe(true);
    const late = cfg.put(`${ns}/out`, "late", { fence: stale! });
    await expect(late).rejects.toBeInstanceOf(ConflictError);
    await expect(late).rejects.toMatchObject({ type: expect.stringMatching(/\/fenced$/) });
  });
});

describe("cfg.elect / observe / resign", { timeout: 20_000 }, () => {
  it("one leader at a time, the next takes over on resign, observers see each value in order", async () => {
    const ns = freshNs();
    const name = `${ns}/leader`;
    const stop = new AbortController();
    const seen: unknown[] = [];
    const watching = (async () => {
      for await (const v of cfg.observe(name, { signal: stop.signal })) seen.push(v);
    })();
    const a = await cfg.elect(name, "a");
    let bLeads = false;
    const b = cfg.elect(name, "b").then((l) => {
      bLeads = true;
      return l;
    });
    await sleep(500);
    expect(bLeads).toBe(false); // b waits in line while a leads
    await a.proclaim("a2");
    await a.resign();
    expect(a.signal.aborted).toBe(true);
    const leaderB = await b;
    expect(leaderB.fencingToken).toBeGreaterThan(a.fencingToken);
    await expect(a.proclaim("late")).rejects.toThrow();
    expect(await cfg.getText(name)).toBe("b");
    await sleep(300);
    stop.abort();
    await watching;
    expect(seen[0]).toBeNull();
    expect(seen.filter((v) => v !== null)).toEqual(["a", "a2", "b"]);
    await leaderB.resign();
  });
});
