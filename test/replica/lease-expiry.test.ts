// The leader's lease bookkeeping (src/replica/lease-expiry.ts) without a Durable Object: renewals
// held in memory, the expiry that counts them, and a renewal refused once an expiry is in flight.
import { describe, expect, it } from "vitest";
import { LeaseExpiry } from "../../src/replica/lease-expiry.ts";
import type { ProposeAnswer } from "../../src/replica/rpc.ts";
import { decodeCommand, type Command } from "../../src/store/index.ts";
import { Driver, expectType } from "../store/helpers.ts";

/** A leader's LeaseExpiry whose proposals are recorded and never answered (still in flight). */
function leader() {
  const proposed: Command[] = [];
  const expiry = new LeaseExpiry(
    (bytes) => {
      proposed.push(decodeCommand(bytes));
      return new Promise<ProposeAnswer>(() => {});
    },
    1_000,
    "test",
  );
  return { expiry, proposed };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("lease expiry on the leader", () => {
  it("a renewal moves the expiry and the wake time, and no expiry is proposed before it", async () => {
    const d = new Driver();
    const lease = expectType(
      d.apply({ type: "leaseGrant", namespace: "app", ttlMs: 5_000 }),
      "lease",
    );
    const { expiry, proposed } = leader();
    const at = lease.lease.expiresAtMs;
    const renewed = expiry.renew(d.store, lease.lease.id, at - 1_000)!;
    expect(renewed.expiresAtMs).toBe(at + 4_000);
    expect(expiry.view(d.store.lease(lease.lease.id))?.expiresAtMs).toBe(at + 4_000);
    expect(expiry.wakeAtMs(d.store, true)).toBe(at + 4_000);
    expect(expiry.wakeAtMs(d.store, false)).toBeNull();
    expiry.act(d.store, at + 1);
    await flush();
    expect(proposed).toEqual([]);
    expiry.act(d.store, at + 4_000);
    await flush();
    expect(proposed.map((c) => c.type)).toEqual(["leaseExpire"]);
  });

  it("refuses to renew a lease whose expiry is in flight; forgets renewals when leadership is lost", async () => {
    const d = new Driver();
    const { lease } = expectType(
      d.apply({ type: "leaseGrant", namespace: "app", ttlMs: 5_000 }),
      "lease",
    );
    const { expiry } = leader();
    expiry.renew(d.store, lease.id, lease.expiresAtMs - 1_000);
    expiry.lost();
    expect(expiry.wakeAtMs(d.store, true)).toBe(lease.expiresAtMs);
    expiry.act(d.store, lease.expiresAtMs);
    await flush();
    expect(expiry.renew(d.store, lease.id, lease.expiresAtMs + 1)).toBeNull();
  });
});
