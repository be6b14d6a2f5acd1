// Server-Sent Events framing (HTML Living Standard, "Server-sent events").

const encoder = new TextEncoder();

export interface SseEvent {
  event: string;
  data: unknown;
  /** Sets the client's Last-Event-ID; omit inside a group that must be resumed as a whole. */
  id?: number;
}

export function sseFrame(e: SseEvent): Uint8Array {
  const lines = [`event: ${e.event}`, `data: ${JSON.stringify(e.data)}`];
  if (e.id !== undefined) lines.push(`id: ${e.id}`);
  return encoder.encode(lines.join("\n") + "\n\n");
}

/** A stream the route writes to; `write` reports false once the client has gone away. */
export function sseStream(): {
  readable: ReadableStream<Uint8Array>;
  write: (e: SseEvent) => Promise<boolean>;
  close: () => Promise<void>;
} {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  let open = true;
  return {
    readable,
    write: async (e) => {
      if (!open) return false;
      try {
        await writer.write(sseFrame(e));
        return true;
      } catch {
        open = false;
        return false;
      }
    },
    close: async () => {
      if (!open) return;
      open = false;
      await writer.close().catch(() => {});
    },
  };
}
