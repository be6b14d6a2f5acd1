// The audit trail of the state machine (src/store/audit.ts): every revision a request makes
// records who, when and why; the record lives as long as the revision's history.
import { describe, expect, it } from "vitest";
import { decodeFrame } from "../../src/store/framing.ts";
import { decodeCommand, encodeCommand } from "../../src/store/codec.ts";
import { storeLimits } from "../../src/store/limits.ts";
import { Store } from "../../src/store/store.ts";
import type { AuditActor, CommandAudit } from "../../src/store/types.ts";
import { bytes, Driver, expectType } from "./helpers.ts";

const ci: AuditActor = { kind: "token", id: "tok_ci", name: "ci" };
const by = (requestId: string, reason?: string, actor: AuditActor = ci): CommandAudit => ({
  actor,
  requestId,
  ...(reason === undefined ? {} : { reason }),
});

function put(d: Driver, key: string, value: string, audit?: CommandAudit) {
  return d.apply({
    type: "put",
    key,
    value: bytes(value),
    contentType: "text/plain",
    ...(audit === undefined ? {} : { audit }),
  });
}

function audit(store: Store, namespace: string, extra: { limit?: number; cursor?: string } = {}) {
  return expectType(store.audit({ namespace, ...extra }), "audit");
}

describe("audit records", () => {
  it("a put records its actor, time, reason and request id with its revision, in history too", () => {
    const d = new Driver();
    const o = expectType(put(d, "app/a", "1", by("req-1", "raise the limit")), "ok");
    const [item] = audit(d.store, "app").items;
    expect(item).toEqual({
      revision: o.revision,
      atMs: d.nowMs,
      op: "put",
      keys: ["app/a"],
      actor: ci,
      reason: "raise the limit",
      requestId: "req-1",
    });
    const h = expectType(d.store.history("app/a"), "history");
    expect(h.items[0]).toMatchObject({ actor: ci, reason: "raise the limit", requestId: "req-1" });
  });

  it("a txn's writes share one record that lists every key it wrote, and watch events carry it", () => {
    const d = new Driver();
    d.apply({
      type: "txn",
      compare: [],
      success: [
        { type: "put", key: "app/a", value: bytes("1"), contentType: "text/plain" },
        { type: "put", key: "app/b", value: bytes("2"), contentType: "text/plain" },
        { type: "get", key: "app/c" },
      ],
      failure: [],
      audit: by("req-txn"),
    });
    const { items } = audit(d.store, "app");
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ op: "txn", keys: ["app/a", "app/b"], requestId: "req-txn" });
    const c = expectType(d.store.changes({ prefix: "app/", afterRevision: 0 }), "changes");
    expect(c.events.map((e) => [e.key, e.requestId, e.updatedAtMs])).toEqual([
      ["app/a", "req-txn", d.nowMs],
      ["app/b", "req-txn", d.nowMs],
    ]);
  });

  it("lists a namespace's revisions newest first, page by page, and no other namespace's", () => {
    const d = new Driver();
    for (let i = 1; i <= 5; i++) put(d, "app/a", String(i), by(`req-${i}`));
    put(d, "web/a", "x", by("req-web"));
    const seen: string[] = [];
    let page = audit(d.store, "app", { limit: 2 });
    seen.push(...page.items.map((i) => i.requestId!));
    while (page.cursor !== null) {
      page = audit(d.store, "app", { limit: 2, cursor: page.cursor });
      seen.push(...page.items.map((i) => i.requestId!));
    }
    expect(seen).toEqual(["req-5", "req-4", "req-3", "req-2", "req-1"]);
    expect(d.store.audit({ namespace: "app", cursor: "nonsense" }).type).toBe("invalid");
    expect(d.store.audit({ namespace: "app", limit: 0 }).type).toBe("invalid");
  });

  it("a record lives exactly as long as its revision's history: trimming the last version drops it", () => {
    const d = Driver.with({ historyVersionsPerKey: 2 });
    for (let i = 1; i <= 4; i++) put(d, "app/a", String(i), by(`req-${i}`));
    expect(audit(d.store, "app").items.map((i) => i.requestId)).toEqual(["req-4", "req-3"]);
    const h = expectType(d.store.history("app/a"), "history");
    expect(h.items.map((i) => i.requestId)).toEqual(["req-4", "req-3"]);
  });

  it("a txn's record stays while any of its versions is retained", () => {
    const d = Driver.with({ historyVersionsPerKey: 2 });
    d.apply({
      type: "txn",
      compare: [],
      success: [
        { type: "put", key: "app/a", value: bytes("1"), contentType: "text/plain" },
        { type: "put", key: "app/b", value: bytes("1"), contentType: "text/plain" },
      ],
      failure: [],
      audit: by("req-txn"),
    });
    put(d, "app/a", "2", by("req-a2"));
    put(d, "app/a", "3", by("req-a3")); // trims app/a's version of the txn; app/b's remains
    expect(audit(d.store, "app").items.map((i) => i.requestId)).toEqual([
      "req-a3",
      "req-a2",
      "req-txn",
    ]);
  });

  it("audit bytes count against historyBytesMax, so records cannot outgrow the history budget", () => {
    const reason = "r".repeat(200);
    const d = Driver.with({ historyBytesMax: 1000 });
    for (let i = 0; i < 20; i++) put(d, "app/a", String(i), by(`req-${i}`, reason));
    const h = expectType(d.store.history("app/a"), "history");
    const perVersion = "app/a".length + 1 + storeLimits.auditRecordOverheadBytes + 200 + 6;
    expect(h.items.length - 1).toBe(Math.floor(1000 / perVersion));
  });

  it("a retry with the same Idempotency-Key and a new request id is deduplicated, not refused", () => {
    const d = new Driver();
    const first = expectType(
      d.apply({
        type: "put",
        key: "app/a",
        value: bytes("1"),
        contentType: "text/plain",
        idempotencyKey: "k1",
        audit: by("req-1"),
      }),
      "ok",
    );
    const retry = d.apply({
      type: "put",
      key: "app/a",
      value: bytes("1"),
      contentType: "text/plain",
      idempotencyKey: "k1",
      audit: by("req-2"),
    });
    expect(retry).toEqual({ ...first, deduplicated: true });
    expect(audit(d.store, "app").items.map((i) => i.requestId)).toEqual(["req-1"]);
  });

  it("tokens and namespace settings are recorded under _sys, the latest auditSystemRecordsMax kept", () => {
    const d = new Driver();
    const token = {
      hashHex: "a".repeat(64),
      scopes: [{ namespaces: ["*"], ops: ["read" as const] }],
    };
    d.apply({
      type: "tokenCreate",
      id: "tok_1",
      ...token,
      createdAtMs: 1,
      name: "ci",
      audit: by("r1"),
    });
    d.apply({ type: "namespaceSet", namespace: "app", publicRead: true, audit: by("r2") });
    d.apply({ type: "namespaceSet", namespace: "app", publicRead: true, audit: by("r3") }); // no change
    d.apply({ type: "tokenRevoke", id: "tok_1", audit: by("r4") });
    expect(audit(d.store, "_sys").items.map((i) => [i.op, i.keys, i.requestId])).toEqual([
      ["tokenRevoke", ["_sys/tokens/tok_1"], "r4"],
      ["namespaceSet", ["_sys/settings/app"], "r2"],
      ["tokenCreate", ["_sys/tokens/tok_1"], "r1"],
    ]);
    for (let i = 0; i < storeLimits.auditSystemRecordsMax; i++)
      d.apply({
        type: "namespaceSet",
        namespace: "app",
        publicRead: i % 2 === 1,
        audit: by(`s${i}`),
      });
    const all = audit(d.store, "_sys", { limit: 1000 });
    expect(all.items).toHaveLength(storeLimits.auditSystemRecordsMax);
    expect(all.cursor).toBeNull();
    expect(all.items.some((i) => i.requestId === "r4")).toBe(false);
  });

  it("a lease that expires deletes its keys as the system actor, with no request id", () => {
    const d = new Driver();
    const lease = expectType(
      d.apply({ type: "leaseGrant", namespace: "app", ttlMs: 2_000 }),
      "lease",
    );
    d.apply({
      type: "put",
      key: "app/lock-holder",
      value: bytes("me"),
      contentType: "text/plain",
      lease: lease.lease.id,
      audit: by("req-1"),
    });
    d.apply({ type: "leaseKeepAlive", id: lease.lease.id, audit: by("req-keepalive") });
    d.apply({ type: "leaseExpire", id: lease.lease.id, atMs: d.nowMs + 60_000 });
    const { items } = audit(d.store, "app");
    expect(items.map((i) => [i.op, i.actor, i.requestId])).toEqual([
      ["leaseExpire", { kind: "system" }, undefined],
      ["put", ci, "req-1"],
    ]);
  });

  it("revoking a lease records its key deletions with the revoker; a token name must be printable", () => {
    const d = new Driver();
    const lease = expectType(
      d.apply({ type: "leaseGrant", namespace: "app", ttlMs: 60_000 }),
      "lease",
    );
    const id = lease.lease.id;
    const value = { value: bytes("me"), contentType: "text/plain" };
    d.apply({ type: "put", key: "app/a", ...value, lease: id, audit: by("req-put") });
    d.apply({ type: "put", key: "app/b", ...value, lease: id, audit: by("req-put-b") });
    d.apply({ type: "leaseRevoke", id, audit: by("req-revoke", "shutting down") });
    expect(audit(d.store, "app").items[0]).toMatchObject({
      op: "leaseRevoke",
      keys: ["app/a", "app/b"],
      reason: "shutting down",
      requestId: "req-revoke",
    });
    const token = {
      hashHex: "b".repeat(64),
      scopes: [{ namespaces: ["*"], ops: ["read" as const] }],
    };
    const bad = d.apply({
      type: "tokenCreate",
      id: "tok_2",
      ...token,
      createdAtMs: 1,
      name: "a\nb",
    });
    expect(expectType(bad, "invalid").reason).toBe("token");
  });

  it("an over-long reason is refused and changes nothing", () => {
    const d = new Driver();
    const o = put(d, "app/a", "1", by("req-1", "x".repeat(storeLimits.auditReasonBytesMax + 1)));
    expect(expectType(o, "invalid").reason).toBe("audit");
    expect(d.store.revision).toBe(0);
    // Bytes, not characters: 128 two-byte characters fit, 129 do not.
    expect(put(d, "app/a", "1", by("req-2", "é".repeat(128))).type).toBe("ok");
    expect(put(d, "app/a", "1", by("req-3", "é".repeat(129))).type).toBe("invalid");
  });
});

describe("audit and old entries", () => {
  it("entries written before audit existed decode as before and make revisions without a record", () => {
    const old = {
      type: "put",
      atMs: 1,
      key: "app/a",
      value: bytes("1"),
      contentType: "text/plain",
    };
    const encoded = encodeCommand(old as never);
    expect(decodeCommand(encoded)).toEqual(old);
    const store = new Store();
    store.apply(1, encoded);
    expect(audit(store, "app").items).toEqual([]);
    expect(expectType(store.history("app/a"), "history").items[0]!.actor).toBeUndefined();
    // …and its snapshot has the fields it had before audit existed.
    expect(Object.keys(decodeFrame(store.snapshot()).body as object)).not.toContain("audit");
  });

  it("a restored store keeps every record, and drops each with the last version it shares", () => {
    const d = Driver.with({ historyVersionsPerKey: 2 });
    put(d, "app/a", "1", by("req-1", "first"));
    put(d, "app/a", "2", by("req-2", undefined, { kind: "admin" }));
    const restored = Store.restore(d.store.snapshot());
    restored.checkInvariants();
    expect(audit(restored, "app")).toEqual(audit(d.store, "app"));
    expect(restored.snapshot()).toEqual(d.store.snapshot());
    const next = new Driver(restored);
    next.index = d.index;
    put(next, "app/a", "3", by("req-3"));
    expect(audit(restored, "app").items.map((i) => i.requestId)).toEqual(["req-3", "req-2"]);
  });
});

describe("audit of schema changes", () => {
  const schemaSet = (namespace: string, requestId: string) => ({
    type: "schemaSet" as const,
    namespace,
    // A different schema each time: setting the same rules again changes nothing, records nothing.
    schemas: [{ prefix: "flags/", schema: JSON.stringify({ type: "object", title: requestId }) }],
    audit: by(requestId, "stricter flags"),
  });

  it("a schema change is listed with its namespace's writes, newest first, page by page", () => {
    const d = new Driver();
    put(d, "app/a", "1", by("w1"));
    expectType(d.apply(schemaSet("app", "s1")), "schemasSet");
    put(d, "app/b", "2", by("w2"));
    expectType(d.apply(schemaSet("other", "s2")), "schemasSet");
    expectType(d.apply(schemaSet("app", "s3")), "schemasSet");
    const all = audit(d.store, "app").items;
    expect(all.map((i) => [i.op, i.requestId, i.reason ?? null])).toEqual([
      ["schemaSet", "s3", "stricter flags"],
      ["put", "w2", null],
      ["schemaSet", "s1", "stricter flags"],
      ["put", "w1", null],
    ]);
    expect(all[0]!.keys).toEqual(["_sys/schemas/app"]);
    const seen: string[] = [];
    let page = audit(d.store, "app", { limit: 1 });
    for (;;) {
      seen.push(...page.items.map((i) => i.requestId!));
      if (page.cursor === null) break;
      page = audit(d.store, "app", { limit: 1, cursor: page.cursor });
    }
    expect(seen).toEqual(["s3", "w2", "s1", "w1"]);
    expect(audit(d.store, "other").items.map((i) => i.requestId)).toEqual(["s2"]);
    // It survives a snapshot, as every record of _sys does.
    const restored = Store.restore(d.store.snapshot());
    expect(audit(restored, "app").items.map((i) => i.requestId)).toEqual(["s3", "w2", "s1", "w1"]);
  });
});

describe("audit of deletes forgotten at once", () => {
  it("an apply that prunes more keys than deleted keys are retained records what is left, and nothing breaks", () => {
    // Found by the snapshot determinism property (seed -1660234924): the record looked for a
    // version of a key its own revision had already forgotten.
    const d = Driver.with({ deletedKeysRetainedMax: 2 });
    const entry = (name: string) => ({ name, value: bytes(name), contentType: "text/plain" });
    const apply = (names: string[], requestId: string) =>
      d.apply({
        type: "namespaceApply",
        namespace: "app",
        entries: names.map(entry),
        prune: true,
        audit: by(requestId),
      });
    expectType(apply(["a", "b", "c"], "create"), "namespaceWrite");
    expectType(apply([], "prune-all"), "namespaceWrite");
    const items = audit(d.store, "app").items;
    expect(items.map((i) => [i.requestId, i.keys.length])).toEqual([
      ["prune-all", 3],
      ["create", 3],
    ]);
    expect(audit(Store.restore(d.store.snapshot()), "app").items).toEqual(items);
  });
});
