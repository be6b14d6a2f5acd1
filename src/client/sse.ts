// A Server-Sent Events parser following the WHATWG HTML spec ("Parsing an event stream"):
// lines end in CRLF, LF or CR; `data` lines join with "\n"; an `id` persists across events and is
// ignored if it contains NUL; `retry` must be all digits; comments start with ":"; an event is
// dispatched on a blank line, and only if it has data. A leading BOM is skipped.

export interface SseMessage {
  /** "message" when the stream named no event type. */
  event: string;
  data: string;
  /** The last event id seen so far in the stream (the spec's "last event ID buffer"). */
  id: string;
  /** A `retry:` in this event, in ms. */
  retryMs?: number;
  /** True when this event itself had an `id:` line (`id` may be inherited from an earlier one). */
  hasId?: boolean;
}

export class SseParser {
  #buffer = "";
  #sawFirstChunk = false;
  /** A trailing CR may be half of a CRLF split across chunks. */
  #pendingCr = false;
  #data: string[] = [];
  #event = "";
  #lastId = "";
  #retryMs: number | undefined;
  #hasId = false;

  constructor(lastEventId = "") {
    this.#lastId = lastEventId;
  }

  /** The id to resume from with `Last-Event-ID`. */
  get lastEventId(): string {
    return this.#lastId;
  }

  /** Feeds decoded text; returns the events it completed. */
  push(chunk: string): SseMessage[] {
    if (!this.#sawFirstChunk && chunk.length > 0) {
      this.#sawFirstChunk = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.#pendingCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.#pendingCr = false;
    this.#buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const end = this.#buffer.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.#buffer.slice(0, end);
      let next = end + 1;
      if (this.#buffer[end] === "\r") {
        if (next === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer[next] === "\n") next += 1;
      }
      this.#buffer = this.#buffer.slice(next);
      const message = this.#line(line);
      if (message) out.push(message);
    }
    return out;
  }

  #line(line: string): SseMessage | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) {
      this.#lastId = value;
      this.#hasId = true;
    } else if (field === "retry" && /^\d+$/.test(value)) this.#retryMs = Number(value);
    return undefined;
  }

  #dispatch(): SseMessage | undefined {
    const hadData = this.#data.length > 0;
    const message: SseMessage = {
      event: this.#event || "message",
      data: this.#data.join("\n"),
      id: this.#lastId,
    };
    if (this.#retryMs !== undefined) message.retryMs = this.#retryMs;
    if (this.#hasId) message.hasId = true;
    this.#hasId = false;
    this.#data = [];
    this.#event = "";
    this.#retryMs = undefined;
    return hadData ? message : undefined;
  }
}

/** Reads an SSE body as messages. Uses reader.read() rather than async iteration of the stream,
 *  which some browsers still lack. Cancels the body when the consumer stops early. */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  parser = new SseParser(),
): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
