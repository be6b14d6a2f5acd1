// OFREP change streams (ADR-0008): the bulk answer names a stream whose URL carries a ticket
// (an EventSource sends no Authorization), the stream says the revision at connect and then each
// change as refetchEvaluation with the new ETag, and a ticket admits only to its namespace.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { adminToken, base, call, freshNs, put } from "./api/helpers.ts";

async function bulk(ns: string, token: string | null = adminToken) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await SELF.fetch(`${base}/v1/ns/${ns}/ofrep/v1/evaluate/flags`, {
    method: "POST",
    headers,
    body: '{"context":{}}',
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    eventStreams?: { type: string; endpoint: { requestUri: string }; inactivityDelaySec: number }[];
  };
}

/** Reads SSE `message` events off a stream, one at a time. */
function reader(body: ReadableStream<Uint8Array>) {
  const r = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next(): Promise<{ id: string; data: Record<string, unknown> }> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const field = (name: string) =>
            frame
              .split("\n")
              .find((l) => l.startsWith(`${name}: `))
              ?.slice(name.length + 2);
          if (field("event") !== "message") continue;
          return { id: field("id") ?? "", data: JSON.parse(field("data") ?? "{}") };
        }
        const { done, value } = await r.read();
        if (done) throw new Error("the stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => r.cancel(),
  };
}

describe("OFREP event streams", () => {
  it("names a ticketed stream that tells the revision, then each change", async () => {
    const ns = freshNs();
    const first = await put(`${ns}/a`, 1);
    const [stream] = (await bulk(ns)).eventStreams!;
    expect(stream).toMatchObject({ type: "sse", inactivityDelaySec: 120 });
    expect(stream!.endpoint.requestUri).toMatch(
      new RegExp(`^/v1/ns/${ns}/ofrep/v1/events\\?ticket=\\d+\\.[\\w-]{43}$`),
    );
    const res = await SELF.fetch(base + stream!.endpoint.requestUri); // no Authorization
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/event-stream");
    const events = reader(res.body!);
    const atConnect = await events.next();
    expect(atConnect.data).toEqual({ type: "refetchEvaluation", etag: first.headers.get("ETag") });
    const second = await put(`${ns}/b`, 2);
    const changed = await events.next();
    expect(changed.data).toEqual({ type: "refetchEvaluation", etag: second.headers.get("ETag") });
    expect(changed.id).toBe(second.headers.get("ETag")!.slice(2, -1));
    await events.cancel();
  });

  it("resumes after Last-Event-ID without repeating it", async () => {
    const ns = freshNs();
    const first = await put(`${ns}/a`, 1);
    const uri = (await bulk(ns)).eventStreams![0]!.endpoint.requestUri;
    const id = first.headers.get("ETag")!.slice(2, -1);
    const res = await SELF.fetch(base + uri, { headers: { "Last-Event-ID": id } });
    const events = reader(res.body!);
    const second = await put(`${ns}/a`, 2);
    expect((await events.next()).data.etag).toBe(second.headers.get("ETag"));
    await events.cancel();
  });

  it("a ticket admits only to its namespace, unaltered; public namespaces need none", async () => {
    const ns = freshNs();
    await put(`${ns}/a`, 1);
    const uri = (await bulk(ns)).eventStreams![0]!.endpoint.requestUri;
    const ticket = uri.slice(uri.indexOf("ticket=") + 7);
    const other = freshNs();
    const elsewhere = await SELF.fetch(`${base}/v1/ns/${other}/ofrep/v1/events?ticket=${ticket}`);
    expect(elsewhere.status).toBe(401);
    const flipped = ticket.slice(0, -1) + (ticket.endsWith("A") ? "B" : "A");
    expect((await SELF.fetch(`${base}/v1/ns/${ns}/ofrep/v1/events?ticket=${flipped}`)).status).toBe(
      401,
    );
    expect((await SELF.fetch(`${base}/v1/ns/${ns}/ofrep/v1/events`)).status).toBe(401);
    await call(`/v1/ns/${ns}/settings`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ publicRead: true }),
    });
    const open = (await bulk(ns, null)).eventStreams![0]!.endpoint.requestUri;
    expect(open).toBe(`/v1/ns/${ns}/ofrep/v1/events`);
    const res = await SELF.fetch(base + open);
    expect(res.status).toBe(200);
    await res.body!.cancel();
  });
});
