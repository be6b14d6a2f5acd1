// GET /v1/watch: Server-Sent Events of changes under a prefix.
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

interface Sse {
  event: string;
  data: Record<string, unknown>;
  id?: string;
}

/** Reads events until `stop` says so (or `max` events), then cancels the stream. */
async function collect(res: Response, stop: (events: Sse[]) => boolean, max = 50): Promise<Sse[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: Sse[] = [];
  let buffer = "";
  try {
    while (events.length < max && !stop(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: Partial<Sse> = {};
        for (const line of block.split("\n")) {
          const [field, ...rest] = line.split(": ");
          const v = rest.join(": ");
          if (field === "event") e.event = v;
          if (field === "data") e.data = JSON.parse(v);
          if (field === "id") e.id = v;
        }
        events.push(e as Sse);
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

const kinds = (events: Sse[]) => events.filter((e) => e.event !== "progress");

describe("GET /v1/watch", () => {
  it("streams history from fromRevision, then live changes, with ids for Last-Event-ID", async () => {
    const ns = freshNs();
    const first = ((await (await put(`${ns}/a`, { v: 1 })).json()) as { modRevision: number })
      .modRevision;
    await put(`${ns}/b`, "text", { "Content-Type": "text/plain" });
    await put(`${freshNs()}/elsewhere`, 1);
    const res = await call(`/v1/watch?prefix=${ns}/&fromRevision=${first}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/event-stream");
    const live = (async () => {
      await new Promise((r) => setTimeout(r, 100));
      await call(`/v1/kv/${ns}/a`, { method: "DELETE" });
    })();
    const events = await collect(res, (es) => kinds(es).length >= 3);
    await live;
    const changes = kinds(events);
    expect(changes.map((e) => [e.event, e.data.key])).toEqual([
      ["put", `${ns}/a`],
      ["put", `${ns}/b`],
      ["delete", `${ns}/a`],
    ]);
    expect(changes[0]!.data.value).toEqual({ v: 1 });
    expect(changes[1]!.data.value).toEqual({ contentType: "text/plain", base64: btoa("text") });
    expect(changes[0]!.id).toBe(String(first));
    expect(events[0]!.event).toBe("progress");

    // Resume after the first event: only the later ones come again.
    const resumed = await call(`/v1/watch?prefix=${ns}/`, {
      headers: { "Last-Event-ID": changes[0]!.id! },
    });
    const again = kinds(await collect(resumed, (es) => kinds(es).length >= 2));
    expect(again.map((e) => e.event)).toEqual(["put", "delete"]);
  });

  it("values=false leaves values out; without fromRevision only new changes arrive", async () => {
    const ns = freshNs();
    await put(`${ns}/old`, 1);
    const res = await call(`/v1/watch?prefix=${ns}/&values=false`);
    setTimeout(() => void put(`${ns}/new`, { big: "value" }), 100);
    const events = kinds(await collect(res, (es) => kinds(es).length >= 1));
    expect(events[0]!.data.key).toBe(`${ns}/new`);
    expect(events[0]!.data).not.toHaveProperty("value");
  });

  it("a compacted fromRevision gets a compacted event", async () => {
    const ns = freshNs();
    for (let i = 0; i <= 101; i++) await put(`${ns}/k`, i);
    const res = await call(`/v1/watch?prefix=${ns}/&fromRevision=1`);
    const events = await collect(res, (es) => es.some((e) => e.event === "compacted"));
    expect(events.map((e) => e.event)).toContain("compacted");
  });

  it("rejects a bad prefix, fromRevision or Last-Event-ID", async () => {
    const ns = freshNs();
    expect((await call(`/v1/watch`)).status).toBe(400);
    expect((await call(`/v1/watch?prefix=${ns}`)).status).toBe(400);
    expect((await call(`/v1/watch?prefix=${ns}/&fromRevision=-1`)).status).toBe(400);
    expect(
      (
        await problemOf(
          await call(`/v1/watch?prefix=${ns}/`, { headers: { "Last-Event-ID": "abc" } }),
        )
      ).detail,
    ).toContain("Last-Event-ID");
    expect((await call(`/v1/watch?prefix=${ns}/`, { token: null })).status).toBe(401);
  });
});
