import { describe, expect, it } from "vitest";
import { createClient, type WatchEvent } from "../../src/client/index.ts";
import { WatchPosition } from "../../src/client/watch-position.ts";
import { json, noDelay, sseBody, stubFetch } from "./stub.ts";

type Change = { type: "put" | "delete"; key: string; modRevision: number };

/** A fake change log served the way the API serves /v1/watch and /v1/kv?prefix. */
function fakeStore(
  log: Change[],
  options: { cutAfterEvents?: number[]; compactedThrough?: number } = {},
) {
  const cuts = [...(options.cutAfterEvents ?? [])];
  const head = () => log.at(-1)?.modRevision ?? 0;
  const stub = stubFetch((req) => {
    const u = new URL(req.url);
    if (u.pathname === "/v1/kv") {
      const live = new Map<string, number>();
      for (const c of log) c.type === "put" ? live.set(c.key, c.modRevision) : live.delete(c.key);
      const items = [...live]
        .sort()
        .map(([key, modRevision]) => ({ key, modRevision, version: 1, value: key }));
      return json({ prefix: u.searchParams.get("prefix"), revision: head(), items, cursor: null });
    }
    const after = Number(
      req.headers.get("last-event-id") ??
        Number(u.searchParams.get("fromRevision") ?? head() + 1) - 1,
    );
    if (options.compactedThrough !== undefined && after < options.compactedThrough) {
      return new Response(
        sseBody([`event: compacted\ndata: {"fromRevision":${after + 1},"revision":${head()}}\n\n`]),
      );
    }
    const pending = log.filter((c) => c.modRevision > after);
    const limit = cuts.shift() ?? pending.length;
    const frames = [`event: progress\nid: ${after}\ndata: {"revision":${after}}\n\n`];
    pending.slice(0, limit).forEach((c, i) => {
      const lastOfRevision = pending[i + 1]?.modRevision !== c.modRevision;
      frames.push(
        `event: ${c.type}\n${lastOfRevision ? `id: ${c.modRevision}\n` : ""}data: ${JSON.stringify({ ...c, version: 1, value: "v" })}\n\n`,
      );
    });
    if (limit >= pending.length)
      frames.push(`event: progress\nid: ${head()}\ndata: {"revision":${head()}}\n\n`);
    // Every stream ends here: a cut (limit < pending) is a dropped connection.
    return new Response(sseBody(frames));
  });
  return stub;
}

async function collect(
  events: AsyncGenerator<WatchEvent>,
  count: number,
  controller: AbortController,
): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (out.length === count) controller.abort();
  }
  return out;
}

const ids = (events: WatchEvent[]) =>
  events.map((e) =>
    e.type === "resync" ? `resync@${e.revision}` : `${e.type}:${e.key}@${e.modRevision}`,
  );

describe("watch", () => {
  const log: Change[] = [
    { type: "put", key: "app/a", modRevision: 2 },
    { type: "put", key: "app/b", modRevision: 3 },
    // A txn: two keys at one revision.
    { type: "put", key: "app/c", modRevision: 4 },
    { type: "delete", key: "app/a", modRevision: 4 },
    { type: "put", key: "app/d", modRevision: 5 },
  ];
  const expected = ["put:app/a@2", "put:app/b@3", "put:app/c@4", "delete:app/a@4", "put:app/d@5"];

  it("delivers every change once across dropped connections, even inside a txn's revision", async () => {
    const stub = fakeStore(log, { cutAfterEvents: [1, 2, 1, 0] });
    const controller = new AbortController();
    const client = createClient({ url: "http://s", fetch: stub.fetch, backoff: noDelay });
    const events = await collect(
      client.watch({ prefix: "app/", fromRevision: 1, signal: controller.signal }),
      5,
      controller,
    );
    expect(ids(events)).toEqual(expected);
    const resumes = stub.requests
      .filter((r) => r.url.includes("/v1/watch"))
      .map((r) => r.headers.get("last-event-id"));
    // 0 (fromRevision 1), after a@2, then mid-txn the revision 4 is asked for again (after 3).
    expect(resumes.slice(0, 4)).toEqual(["0", "2", "3", "3"]);
    expect(stub.requests[0]!.headers.get("accept")).toBe("text/event-stream");
  });

  it("starts from now: asks the current revision first", async () => {
    const stub = fakeStore(log);
    const controller = new AbortController();
    const client = createClient({ url: "http://s", fetch: stub.fetch, backoff: noDelay });
    const watching = collect(
      client.watch({ prefix: "app/", signal: controller.signal }),
      1,
      controller,
    );
    await new Promise((r) => setTimeout(r, 20));
    log.push({ type: "put", key: "app/e", modRevision: 6 });
    expect(ids(await watching)).toEqual(["put:app/e@6"]);
    expect(stub.requests[0]!.url).toContain("/v1/kv?prefix=app%2F&limit=1");
    log.pop();
  });

  it("on compaction re-reads the prefix, yields a resync, and resumes after it", async () => {
    const stub = fakeStore(log, { compactedThrough: 3 });
    const controller = new AbortController();
    const client = createClient({ url: "http://s", fetch: stub.fetch, backoff: noDelay });
    const watching = collect(
      client.watch({ prefix: "app/", fromRevision: 1, signal: controller.signal }),
      2,
      controller,
    );
    await new Promise((r) => setTimeout(r, 20));
    log.push({ type: "put", key: "app/f", modRevision: 6 });
    const events = await watching;
    log.pop();
    expect(ids(events)).toEqual(["resync@5", "put:app/f@6"]);
    expect((events[0] as { entries: { key: string }[] }).entries.map((e) => e.key)).toEqual([
      "app/b",
      "app/c",
      "app/d",
    ]);
  });

  it("throws errors a retry cannot fix (403)", async () => {
    const stub = stubFetch(
      () => new Response(JSON.stringify({ status: 403, detail: "no" }), { status: 403 }),
    );
    const client = createClient({ url: "http://s", fetch: stub.fetch });
    const run = async () => {
      for await (const _ of client.watch({ prefix: "app/", fromRevision: 1 })) void _;
    };
    await expect(run()).rejects.toMatchObject({ status: 403 });
  });
});

describe("WatchPosition", () => {
  const put = (key: string, modRevision: number) => ({
    type: "put" as const,
    key,
    modRevision,
    version: 1,
  });
  const del = (key: string, modRevision: number) => ({ type: "delete" as const, key, modRevision });

  it("resumes inside a half-delivered revision and drops what it saw", () => {
    const p = new WatchPosition(1);
    expect(p.accept(put("a", 4))).toBe(true);
    expect(p.resumeFrom).toBe(4);
    expect(p.accept(put("a", 4))).toBe(false);
    expect(p.accept(put("b", 4))).toBe(true);
    expect(p.accept(put("a", 5))).toBe(true);
    expect(p.accept(put("b", 4))).toBe(false);
    p.progress(5);
    expect(p.resumeFrom).toBe(6);
    expect(p.atBoundary).toBe(true);
  });

  it("after a resync drops changes the snapshot holds, but keeps ones it does not", () => {
    const p = new WatchPosition(1);
    // Pages read at revisions 10 and 12: a@11 is in the snapshot, b was deleted at 11 before its page.
    p.resync(
      [{ key: "a", modRevision: 11 } as never, { key: "c", modRevision: 3 } as never],
      10,
      13,
    );
    expect(p.resumeFrom).toBe(11);
    expect(p.accept(put("a", 11))).toBe(false);
    expect(p.accept(del("b", 11))).toBe(false);
    expect(p.accept(del("c", 12))).toBe(true);
    // A key born and deleted inside the window: both are news to the consumer.
    expect(p.accept(put("x", 12))).toBe(true);
    expect(p.accept(del("x", 13))).toBe(true);
    expect(p.accept(put("a", 14))).toBe(true);
  });
});
