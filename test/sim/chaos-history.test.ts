// The chaos run's history check (scripts/chaos/check.ts) catches what it exists to catch, on
// hand-made histories: a stale read (linearizable, stale past its stated revision, or older than
// its min-revision), a lost acknowledged write, an idempotent put applied twice, a lost update,
// a txn applied in part or breaking the accounts' sum, a watch that duplicates, reorders or
// misses a change; and it lets an unknown outcome have happened, or not.
import { describe, expect, it } from "vitest";
import { checkHistory, type Invariant } from "../../scripts/chaos/check.ts";
import type { Recorded, Seen, WatchEvent, WatchLog } from "../../scripts/chaos/history.ts";
import { timelineSvg, unavailability } from "../../scripts/chaos/report.ts";

const k = "chaos/k";
const put = (value: string, t: [number, number | null], revision: number | null): Recorded => ({
  client: 1,
  input: { kind: "put", key: k, value },
  output: revision === null ? null : { kind: "wrote", revision },
  invokeMs: t[0],
  completeMs: t[1],
});
/** A read of `k` at `revision` that saw version `mod` holding `value` (null/null: absent). */
const get = (
  t: [number, number],
  revision: number,
  mod: number | null,
  value: string | null,
  mode: "linearizable" | "stale" | "min" = "linearizable",
  minRevision?: number,
): Recorded => ({
  client: 2,
  input: { kind: "get", key: k, mode, ...(minRevision === undefined ? {} : { minRevision }) },
  output: {
    kind: "read",
    revision,
    seen: [
      mod === null ? { key: k, modRevision: null } : { key: k, modRevision: mod, value: value! },
    ],
  },
  invokeMs: t[0],
  completeMs: t[1],
});
const watch = (sessions: [after: number, lastId: number, events: WatchEvent[]][]): WatchLog => ({
  watcher: 0,
  prefix: "chaos/",
  sessions: sessions.map(([after, lastId, events]) => ({
    after,
    lastId,
    events,
    openedMs: 0,
    closedMs: 0,
  })),
});
const ev = (revision: number, value: string | null, key = k): WatchEvent => ({
  revision,
  key,
  value,
});
/** The violations found, one a line ("" when none): each test names the one it plants. */
const why = (ops: Recorded[], watches: WatchLog[] = [], invariant?: Invariant) =>
  checkHistory(ops, watches, invariant).violations.join("\n");

/** a at r1, b at r2, a read of each: linearizable and fully watched. */
const clean = (): Recorded[] => [
  put("a", [0, 10], 1),
  get([11, 12], 1, 1, "a"),
  put("b", [13, 20], 2),
  get([21, 22], 2, 2, "b"),
];

describe("the chaos history check", () => {
  it("passes a history its revisions explain, with a watch that saw every change once", () => {
    const r = checkHistory(clean(), [
      watch([
        [0, 1, [ev(1, "a")]],
        [1, 2, [ev(2, "b")]],
      ]),
    ]);
    expect(r).toMatchObject({ ok: true, lostWrites: 0, violations: [] });
  });

  it("catches a stale read: a read stating an older revision after a newer write was acknowledged", () => {
    expect(why([put("a", [0, 10], 1), put("b", [11, 20], 2), get([21, 22], 1, 1, "a")])).toMatch(
      /revision 2 was written by an operation that returned before one its revision order puts earlier began/,
    );
  });

  it("catches a read older than the revision it states (stale reads included)", () => {
    const ops = (mode: "linearizable" | "stale") => [
      put("a", [0, 10], 1),
      put("b", [11, 20], 2),
      get([21, 22], 2, 1, "a", mode),
    ];
    expect(why(ops("linearizable"))).toMatch(/r2 changed it \(a stale read\)/);
    expect(why(ops("stale"))).toMatch(/r2 changed it \(a stale read\)/);
    // A stale read may be old, if it says so.
    expect(
      why([put("a", [0, 10], 1), put("b", [11, 20], 2), get([21, 22], 1, 1, "a", "stale")]),
    ).toBe("");
  });

  it("catches a min-revision read answered from before the token it sent", () => {
    const ops = (revision: number) => [
      put("a", [0, 10], 1),
      put("b", [11, 20], 2),
      get([21, 22], revision, 1, "a", "min", 2),
    ];
    expect(why(ops(1))).toMatch(/min-revision read answered from revision 1, older than the token/);
  });

  it("catches a lost write: an acknowledged write a later read does not see", () => {
    expect(why([put("a", [0, 10], 1), get([30, 31], 1, null, null)])).toMatch(
      /shows chaos\/k absent, but r1 wrote it/,
    );
    const r = checkHistory(
      [put("a", [0, 10], 1), put("b", [11, 20], 2), get([30, 31], 3, 1, "a")],
      [watch([[0, 3, [ev(1, "a")]]])],
    );
    expect(r.violations.join("\n")).toMatch(/r2 changed it \(a stale read\)/);
    expect(r.lostWrites).toBe(1);
  });

  it("catches a write acknowledged at a revision that holds another write", () => {
    const r = checkHistory([put("a", [0, 10], 1), put("b", [11, 20], 2), put("c", [21, 30], 2)]);
    expect(r.violations.join("\n")).toMatch(/revision 2 of chaos\/k: .* says "b", .* says "c"/);
    expect(r.lostWrites).toBeGreaterThan(0);
  });

  it("lets a write of unknown outcome have happened, or not", () => {
    const unknown = put("b", [11, null], null);
    expect(why([put("a", [0, 10], 1), unknown, get([30, 31], 2, 2, "b")])).toBe("");
    expect(
      why(
        [put("a", [0, 10], 1), unknown, get([30, 31], 2, 1, "a")],
        [watch([[0, 2, [ev(1, "a")]]])],
      ),
    ).toBe("");
    // ... but not before it was sent.
    expect(
      why([put("a", [0, 10], 1), put("b", [40, null], null), get([30, 31], 2, 2, "b")]),
    ).toMatch(
      /a read of revision 2 returned before an operation its revision order puts earlier began/,
    );
  });

  it("catches an idempotent put applied twice", () => {
    const idem: Recorded = {
      ...put("a", [0, 50], 1),
      input: { kind: "put", key: k, value: "a", idempotencyKey: "x" },
      attempts: 2,
    };
    expect(why([idem], [watch([[0, 1, [ev(1, "a")]]])])).toBe("");
    expect(why([idem], [watch([[0, 2, [ev(1, "a"), ev(2, "a")]]])])).toMatch(
      /applied twice, at revisions 1 and 2/,
    );
  });

  const cas = (
    ifMatch: number | null,
    output: Recorded["output"],
    t: [number, number],
  ): Recorded => ({
    client: 3,
    input: { kind: "cas", key: k, value: "c", ifMatch },
    output,
    invokeMs: t[0],
    completeMs: t[1],
  });

  it("catches a lost update: a CAS that succeeded over a version newer than it compared", () => {
    const base = [put("a", [0, 10], 1), put("b", [11, 20], 2)];
    expect(why([...base, cas(2, { kind: "wrote", revision: 3 }, [21, 30])])).toBe("");
    expect(why([...base, cas(1, { kind: "wrote", revision: 3 }, [21, 30])])).toMatch(
      /a precondition that held at revision 2: .*r2 changed it/,
    );
    expect(why([...base, cas(null, { kind: "wrote", revision: 3 }, [21, 30])])).toMatch(
      /a precondition that held at revision 2: it shows chaos\/k absent/,
    );
  });

  it("catches a CAS refused (412) though the version it compared was current", () => {
    const refused = (mod: number): Recorded["output"] => ({
      kind: "read",
      revision: 1,
      seen: [{ key: k, modRevision: mod }],
    });
    expect(why([put("a", [0, 10], 1), cas(1, refused(1), [11, 12])])).toMatch(
      /a precondition failed though every version it compared was current/,
    );
    expect(
      why([
        put("a", [0, 10], 1),
        put("b", [11, 12], 2),
        cas(1, { kind: "read", revision: 2, seen: [{ key: k, modRevision: 2 }] }, [13, 14]),
      ]),
    ).toBe("");
  });

  it("catches a watch that delivers a change twice across a reconnect, out of order, or misses one", () => {
    expect(
      why(clean(), [
        watch([
          [0, 1, [ev(1, "a")]],
          [0, 2, [ev(1, "a"), ev(2, "b")]],
        ]),
      ]),
    ).toMatch(/watch 0 delivered chaos\/k at revision 1 again/);
    expect(why(clean(), [watch([[0, 2, [ev(2, "b"), ev(1, "a")]]])])).toMatch(
      /watch 0 delivered revision 1 after revision 2/,
    );
    expect(
      why(clean(), [
        watch([
          [0, 1, [ev(1, "a")]],
          [1, 2, []],
        ]),
      ]),
    ).toMatch(/watch 0 missed revision 2 of chaos\/k/);
  });

  describe("transfers between accounts", () => {
    const [x, y] = ["chaos/x", "chaos/y"];
    const bal = (b: number, op: string) => JSON.stringify({ b, op });
    const invariant = { accounts: [x, y], total: 200 };
    const open: Recorded = {
      client: -1,
      input: { kind: "transfer", ifMatch: {}, writes: { [x]: bal(100, "o"), [y]: bal(100, "o") } },
      output: { kind: "wrote", revision: 1 },
      invokeMs: 0,
      completeMs: 10,
    };
    const move = (writes: Record<string, string>): Recorded => ({
      client: 1,
      input: { kind: "transfer", ifMatch: { [x]: 1, [y]: 1 }, writes },
      output: { kind: "wrote", revision: 2 },
      invokeMs: 11,
      completeMs: 20,
    });
    const snapshot = (seen: Seen[]): Recorded => ({
      client: 2,
      input: { kind: "readAll", keys: [x, y] },
      output: { kind: "read", revision: 2, seen },
      invokeMs: 21,
      completeMs: 22,
    });
    const good = move({ [x]: bal(90, "t"), [y]: bal(110, "t") });
    const watched = (events: WatchEvent[]) => [
      watch([[0, 2, [ev(1, bal(100, "o"), x), ev(1, bal(100, "o"), y), ...events]]]),
    ];

    it("pass when every revision and snapshot keeps the sum", () => {
      const seen = [
        { key: x, modRevision: 2, value: bal(90, "t") },
        { key: y, modRevision: 2, value: bal(110, "t") },
      ];
      const r = checkHistory(
        [open, good, snapshot(seen)],
        watched([ev(2, bal(90, "t"), x), ev(2, bal(110, "t"), y)]),
        invariant,
      );
      expect(r.violations).toEqual([]);
    });

    it("catch a txn applied in part", () => {
      const unknown: Recorded = { ...good, output: null, completeMs: null };
      expect(why([open, unknown], watched([ev(2, bal(90, "t"), x)]))).toMatch(
        /a txn applied in part at revision 2 \(chaos\/y unchanged\)/,
      );
    });

    it("catch a transfer or a snapshot that breaks the sum", () => {
      const bad = move({ [x]: bal(90, "t"), [y]: bal(100, "t") });
      expect(
        why([open, bad], watched([ev(2, bal(90, "t"), x), ev(2, bal(100, "t"), y)]), invariant),
      ).toMatch(/the accounts sum to 190, not 200, after revision 2/);
      const torn = [
        { key: x, modRevision: 2, value: bal(90, "t") },
        { key: y, modRevision: 1, value: bal(100, "o") },
      ];
      expect(why([open, good, snapshot(torn)], [], invariant)).toMatch(
        /a snapshot of the accounts sums to 190, not 200/,
      );
    });
  });
});

describe("the chaos report's unavailability windows", () => {
  it("count from a fault to the first acknowledged write begun after it", () => {
    const ops: Recorded[] = [
      put("a", [90, 130], 1), // in flight when the fault began: says nothing about it
      put("b", [140, null], null), // unknown: not acknowledged
      put("c", [150, 900], 3),
      put("d", [200, 700], 2),
    ];
    expect(unavailability(ops, [{ kind: "cut", atMs: 100, holdMs: 500 }])).toEqual([600]);
    expect(unavailability(ops, [{ kind: "cut", atMs: 1_000, holdMs: 500 }])).toEqual([]);
  });
});

describe("the chaos timeline", () => {
  it("labels each fault band with its name in visible text, not only a tooltip", () => {
    const svg = timelineSvg(
      [put("a", [0, 10], 1)],
      [
        { kind: "isolateLeader", atMs: 1_000, holdMs: 2_000 },
        { kind: "skewClock", atMs: 4_000, holdMs: 2_000 },
      ],
    );
    const visible = svg.replace(/<title>[^<]*<\/title>/g, "");
    expect(visible).toMatch(/<text[^>]*>isolateLeader<\/text>/);
    expect(visible).toMatch(/<text[^>]*>skewClock<\/text>/);
  });
});
