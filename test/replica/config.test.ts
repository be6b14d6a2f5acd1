// The replica's timing from [vars]: read leases scale with the tick and stay within half the
// election timeout, and a wrong value is refused with the [vars] entry to fix.
import { describe, expect, it } from "vitest";
import { replicaConfigFrom, replicaDefaults } from "../../src/replica/config.ts";

describe("replicaConfigFrom", () => {
  it("defaults: 50 ms ticks, followers refuse votes for the election timeout, leases for half of it", () => {
    const c = replicaConfigFrom({});
    expect(c.tickMs).toBe(50);
    expect(c.voteRefusalMs).toBe(replicaDefaults.electionTimeoutTicks * 50);
    expect(c.readLeaseMs).toBe(c.voteRefusalMs / 2);
  });

  it("both windows follow TICK_MS", () => {
    const c = replicaConfigFrom({ TICK_MS: "20" });
    expect(c.voteRefusalMs).toBe(200);
    expect(c.readLeaseMs).toBe(100);
  });

  it('READ_LEASE_MS = "0" turns leases off; a shorter lease is accepted', () => {
    expect(replicaConfigFrom({ READ_LEASE_MS: "0" }).readLeaseMs).toBe(0);
    expect(replicaConfigFrom({ READ_LEASE_MS: "100" }).readLeaseMs).toBe(100);
  });

  it("a lease longer than half the election timeout, or not a number, is refused with what to fix", () => {
    expect(() => replicaConfigFrom({ READ_LEASE_MS: "300" })).toThrow(
      /READ_LEASE_MS=300 must be at most half the election timeout \(500 ms at TICK_MS=50\)/,
    );
    expect(() => replicaConfigFrom({ READ_LEASE_MS: "soon" })).toThrow(
      /READ_LEASE_MS="soon" is not a positive integer; fix it in wrangler.toml \[vars\]/,
    );
  });

  it("LEARNER_BYTES_PER_TICK paces a learner's catch-up (256 KiB a tick unless set); 0 is refused", () => {
    expect(replicaConfigFrom({}).learnerBytesPerTick).toBe(256 * 1024);
    expect(replicaConfigFrom({ LEARNER_BYTES_PER_TICK: "65536" }).learnerBytesPerTick).toBe(65536);
    expect(() => replicaConfigFrom({ LEARNER_BYTES_PER_TICK: "0" })).toThrow(
      /LEARNER_BYTES_PER_TICK="0" is not a positive integer; fix it in wrangler.toml \[vars\]/,
    );
  });
});
