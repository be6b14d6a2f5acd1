// Values inside JSON documents (bundles, listings with values, watch events, txn results):
// a JSON value is inlined as JSON; any other value is {contentType, base64}. Every document that
// carries values also carries each one's contentType, so a reader can always tell which it got.
import { isJsonMediaType } from "./body.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

export function encodeValue(contentType: string, bytes: Uint8Array): unknown {
  if (isJsonMediaType(contentType)) {
    try {
      return JSON.parse(decoder.decode(bytes));
    } catch {
      // Unparseable JSON cannot be written through this API; fall through for safety.
    }
  }
  return { contentType, base64: toBase64(bytes) };
}
