// Model test of snapshots: random command sequences, a snapshot somewhere in the middle, a store
// restored from it; both apply the rest, and every query must answer the same, outcome for
// outcome and byte for byte.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import type { Command, StoreOptions } from "../../src/store/types.ts";
import {
  smallKeys,
  smallLeases,
  smallLocks,
  smallPrefixes,
  smallTxnIds,
  smallWorldCommand,
} from "./arbitraries.ts";

const tinyOptions: Partial<StoreOptions> = {
  historyVersionsPerKey: 3,
  shardBytesMax: 100,
  historyBytesMax: 60,
  idempotencyValueBytesMax: 30,
  namespaceKeysMax: 3,
  idempotencyRecordsMax: 3,
  idempotencyRecordAgeMsMax: 5_000,
  deletedKeysRetainedMax: 2,
  tokensMax: 2,
};

/**
 * Commands with atMs that mostly advance but sometimes lag (a proposer with a slow clock); now and
 * then a step retries an earlier command as a client would (same idempotency key and request).
 */
const sequence = fc
  .array(
    fc.tuple(
      smallWorldCommand,
      fc.integer({ min: -2_000, max: 3_000 }),
      fc.option(fc.nat(), { freq: 4 }),
    ),
    { minLength: 5, maxLength: 60, size: "medium" },
  )
  .map((steps) => {
    let atMs = 1_000_000;
    // Leases app~1..3 and web~4 to begin with, so that lock and lease commands find live ones.
    const grant = (namespace: string): Command => {
      return { type: "leaseGrant", namespace, ttlMs: 6_000, atMs };
    };
    const out: Command[] = [grant("app"), grant("app"), grant("app"), grant("web")];
    for (const [c, dt, retry] of steps) {
      atMs += dt;
      const earlier = retry === null || out.length === 0 ? undefined : out[retry % out.length];
      out.push({ ...(earlier ?? c), atMs } as Command);
    }
    return out;
  });

/** Everything a client can ask a store, as one comparable value. */
function observe(store: Store): unknown[] {
  const out: unknown[] = [store.appliedIndex, store.revision, store.stats(), store.tokens()];
  for (const key of smallKeys) {
    out.push(store.meta(key), store.history(key));
    for (let r = 0; r <= store.revision + 1; r++)
      out.push(store.get(r === 0 ? { key } : { key, atRevision: r }));
  }
  for (const prefix of smallPrefixes) {
    out.push(listAll(store, prefix));
    for (let r = 0; r <= store.revision; r++)
      out.push(store.changes({ prefix, afterRevision: r, limit: 2 }));
  }
  for (const ns of ["app", "web", "none", "_sys"])
    out.push(store.bundle(ns), store.namespaceSettings(ns));
  for (const h of ["a", "b", "c"]) out.push(store.tokenByHash(h.repeat(64)));
  for (const id of [...smallLeases, "app~5", "app~6"]) out.push(store.lease(id));
  for (const lock of smallLocks) out.push(store.lock(lock));
  for (const namespace of ["app", "web", "_sys"]) out.push(auditAll(store, namespace));
  out.push(store.nextLeaseExpiryMs(), store.dueLeases(1_010_000));
  out.push(
    store.intents(),
    smallTxnIds.map((id) => [store.prepared(id), store.txnRecord(id)]),
  );
  return out;
}

function auditAll(store: Store, namespace: string): unknown[] {
  const pages: unknown[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = store.audit({ namespace, limit: 2, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page);
    if (page.type !== "audit" || page.cursor === null) break;
    cursor = page.cursor;
  }
  return pages;
}

function listAll(store: Store, prefix: string): unknown[] {
  const pages: unknown[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = store.list({
      prefix,
      limit: 2,
      values: true,
      ...(cursor === undefined ? {} : { cursor }),
    });
    pages.push(page);
    if (page.type !== "list" || page.cursor === null) break;
    cursor = page.cursor;
  }
  return pages;
}

function applyAll(store: Store, commands: Command[], firstIndex: number): unknown[] {
  return commands.map((c, i) => {
    const outcome = store.apply(firstIndex + i, c);
    store.checkInvariants();
    return outcome;
  });
}

describe("snapshot and restore", () => {
  it("a restored store answers every query exactly as the original, before and after more commands", () => {
    fc.assert(
      fc.property(sequence, fc.nat(), (commands, cut) => {
        const split = commands.length === 0 ? 0 : cut % (commands.length + 1);
        const original = new Store(tinyOptions);
        applyAll(original, commands.slice(0, split), 1);
        const bytes = original.snapshot();
        const restored = Store.restore(bytes);
        expect(restored.snapshot()).toEqual(bytes);
        expect(observe(restored)).toEqual(observe(original));
        const rest = commands.slice(split);
        expect(applyAll(restored, rest, split + 1)).toEqual(applyAll(original, rest, split + 1));
        expect(observe(restored)).toEqual(observe(original));
        expect(restored.snapshot()).toEqual(original.snapshot());
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it("is deterministic: the same commands give the same snapshot bytes, whatever queries ran", () => {
    fc.assert(
      fc.property(sequence, (commands) => {
        const a = new Store(tinyOptions);
        const b = new Store(tinyOptions);
        commands.forEach((c, i) => {
          a.apply(i + 1, c);
          observe(a); // queries fill caches; they must not change the state
          b.apply(i + 1, c);
        });
        expect(a.snapshot()).toEqual(b.snapshot());
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it("the same state reached in different key orders gives the same bytes", () => {
    const enc = new TextEncoder();
    const put = (key: string, atMs: number): Command => ({
      type: "put",
      key,
      value: enc.encode(key),
      contentType: "t/p",
      atMs,
    });
    const a = new Store();
    const b = new Store();
    a.apply(1, put("app/x", 1));
    a.apply(2, put("app/y", 1));
    a.apply(3, put("app/x", 1));
    b.apply(1, put("app/y", 1));
    b.apply(2, put("app/x", 1));
    b.apply(3, put("app/x", 1));
    // Same keys and values, but different revisions: states differ, so bytes must differ too...
    expect(a.snapshot()).not.toEqual(b.snapshot());
    // ...while a restore of a restore is byte-identical.
    expect(Store.restore(Store.restore(a.snapshot()).snapshot()).snapshot()).toEqual(a.snapshot());
  });

  it("keeps the store options and the applied index", () => {
    const s = new Store({ historyVersionsPerKey: 7 });
    s.skip(41);
    const r = Store.restore(s.snapshot());
    expect(r.options.historyVersionsPerKey).toBe(7);
    expect(r.appliedIndex).toBe(41);
    expect(() => r.skip(41)).toThrow();
  });
});
