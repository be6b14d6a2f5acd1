// Request bodies, read with a limit: Content-Length is checked before a byte is read, and the
// bytes actually received are counted too (a body may be chunked or lie about its length).
import { ApiProblem, badRequest, problemTypes } from "./problem.ts";

/** 413: `what` ("the value", "the request body") is over `limitBytes`. */
export function tooLarge(limitBytes: number, what: string): ApiProblem {
  return new ApiProblem({
    status: 413,
    type: problemTypes.payloadTooLarge,
    detail: `${what} is larger than ${limitBytes} bytes (${limitBytes / 1024} KiB), the limit; send less`,
    extensions: { limitBytes },
  });
}

export async function readBody(
  request: Request,
  limitBytes: number,
  what = "the request body",
): Promise<Uint8Array> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limitBytes) {
    throw tooLarge(limitBytes, what);
  }
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      // The client went away or the runtime cut the upload: nothing was written.
      throw badRequest(
        `${what} could not be read to its end (the upload broke off); send it again`,
      );
    });
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limitBytes, what);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The store's test of a JSON value (application/json or RFC 6839 +json), for the API. */
export { isJsonMediaType } from "../store/index.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Parses JSON bytes or throws 400 saying where parsing failed. */
export function parseJsonBytes(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw badRequest(`${what} is declared as JSON but is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "parse error";
    throw badRequest(
      `${what} is declared as JSON but does not parse (${reason}); ` +
        "send valid JSON or another Content-Type",
    );
  }
}
