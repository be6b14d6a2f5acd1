import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser, readSse, type SseMessage } from "../../src/client/sse.ts";
import { sseBody } from "./stub.ts";

function parseAll(chunks: string[], parser = new SseParser()): SseMessage[] {
  return chunks.flatMap((c) => parser.push(c));
}

describe("SseParser (WHATWG event stream parsing)", () => {
  it("dispatches an event on a blank line with event, data and id", () => {
    expect(parseAll(['event: put\nid: 7\ndata: {"a":1}\n\n'])).toEqual([
      { event: "put", data: '{"a":1}', id: "7", hasId: true },
    ]);
  });

  it("joins data lines with \\n and defaults the type to message", () => {
    expect(parseAll(["data: one\ndata:two\ndata\n\n"])).toEqual([
      { event: "message", data: "one\ntwo\n", id: "" },
    ]);
  });

  it("accepts CRLF, CR and LF line ends, even a CRLF split across chunks", () => {
    const events = parseAll(["data: a\r", "\n\r", "\ndata: b\r\rdata: c\n\n"]);
    expect(events.map((e) => e.data)).toEqual(["a", "b", "c"]);
  });

  it("ignores comments, unknown fields and events without data", () => {
    expect(parseAll([": keepalive\n\nfoo: bar\nevent: progress\n\ndata: x\n\n"])).toEqual([
      { event: "message", data: "x", id: "" },
    ]);
  });

  it("keeps the last id across events and ignores ids containing NUL", () => {
    const events = parseAll(["id: 5\ndata: a\n\ndata: b\n\nid: 6\0\ndata: c\n\n"]);
    expect(events.map((e) => [e.id, e.hasId])).toEqual([
      ["5", true],
      ["5", undefined],
      ["5", undefined],
    ]);
  });

  it("reads retry only when it is all digits", () => {
    expect(
      parseAll(["retry: 3000\ndata: a\n\nretry: 3s\ndata: b\n\n"]).map((e) => e.retryMs),
    ).toEqual([3000, undefined]);
  });

  it("strips one leading BOM and one space after the colon only", () => {
    expect(parseAll(["\uFEFFdata:  two spaces\n\n"])).toEqual([
      { event: "message", data: " two spaces", id: "" },
    ]);
  });

  it("does not dispatch an unterminated event at the end", () => {
    expect(parseAll(["data: incomplete\n"])).toEqual([]);
  });

  it("gives the same events however the stream is cut into chunks", () => {
    const stream =
      'event: put\r\nid: 1\r\ndata: {"k":"a"}\r\n\r\n: c\n\nevent: delete\rdata: x\rdata: y\r\rid: 9\ndata: z\n\n';
    const whole = parseAll([stream]);
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks = [0, ...points].map((p, i) => stream.slice(p, points[i] ?? stream.length));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });

  it("readSse decodes UTF-8 split across byte chunks", async () => {
    const bytes = new TextEncoder().encode("data: é✓\n\n");
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const out: SseMessage[] = [];
    for await (const m of readSse(body)) out.push(m);
    expect(out.map((m) => m.data)).toEqual(["é✓"]);
  });

  it("readSse stops cleanly when the consumer breaks early", async () => {
    for await (const m of readSse(sseBody(["data: 1\n\ndata: 2\n\n"], true))) {
      expect(m.data).toBe("1");
      break;
    }
  });
});
