// Turning JS values into request bodies and response bytes back into values. Bytes are the
// truth (the API stores values byte for byte); JSON is a convenience on top.
import type { EncodedValue } from "./types.ts";

export type PutValue = string | Uint8Array | ArrayBuffer | object | number | boolean | null;

export const jsonType = "application/json";
export const textType = "text/plain; charset=utf-8";
export const bytesType = "application/octet-stream";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A body and its content type: strings as text, bytes as bytes, anything else as JSON. */
export function encodeBody(
  value: PutValue,
  contentType?: string,
): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  if (typeof value === "string") return { body: utf8(value), contentType: contentType ?? textType };
  if (value instanceof Uint8Array)
    return { body: ownBuffer(value), contentType: contentType ?? bytesType };
  if (value instanceof ArrayBuffer)
    return { body: new Uint8Array(value), contentType: contentType ?? bytesType };
  return { body: utf8(JSON.stringify(value)), contentType: contentType ?? jsonType };
}

/** TextEncoder always returns a fresh ArrayBuffer; some lib typings do not say so. */
function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/** fetch bodies must be backed by an ArrayBuffer (not a SharedArrayBuffer): copy only if not. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

export function isJsonType(contentType: string): boolean {
  const essence = contentType.split(";")[0]!.trim().toLowerCase();
  return essence === jsonType || essence.endsWith("+json");
}

export function isTextType(contentType: string): boolean {
  return contentType.toLowerCase().startsWith("text/") || isJsonType(contentType);
}

export function bytesToText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function textToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Parsed JSON for JSON content, text for text, the bytes themselves otherwise. */
export function decodeValue(bytes: Uint8Array, contentType: string): unknown {
  if (isJsonType(contentType)) return JSON.parse(bytesToText(bytes));
  return isTextType(contentType) ? bytesToText(bytes) : bytes;
}

export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunkBytes = 0x8000; // String.fromCharCode takes arguments: keep each call small.
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunkBytes));
  }
  return btoa(binary);
}

/** True for a bundle entry that carries a non-JSON value: `{base64, contentType}`. */
export function isEncodedValue(value: unknown): value is EncodedValue {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.base64 === "string" && typeof v.contentType === "string" && Object.keys(v).length === 2
  );
}

/** The bytes and content type of a bundle entry, as they would be written with PUT. `contentType`
 *  (from the bundle's `meta`) keeps a JSON type such as application/vnd.x+json; default JSON. */
export function bundleEntryToBody(
  value: unknown,
  contentType?: string,
): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  if (isEncodedValue(value))
    return { body: base64ToBytes(value.base64), contentType: value.contentType };
  return {
    body: utf8(JSON.stringify(value)),
    contentType: contentType && isJsonType(contentType) ? contentType : jsonType,
  };
}

/** A value as it appears in JSON documents (lists, watch events): bytes or text for encoded ones. */
export function decodeInline(value: unknown): unknown {
  if (!isEncodedValue(value)) return value;
  const bytes = base64ToBytes(value.base64);
  return isTextType(value.contentType) ? bytesToText(bytes) : bytes;
}

/** Equal as stored values: JSON compares by meaning (a bundle re-serializes it), others by bytes. */
export function sameValue(
  a: { bytes: Uint8Array; contentType: string },
  b: { bytes: Uint8Array; contentType: string },
): boolean {
  if (a.contentType !== b.contentType) return false;
  if (!isJsonType(a.contentType)) return bytesEqual(a.bytes, b.bytes);
  try {
    return (
      JSON.stringify(JSON.parse(bytesToText(a.bytes))) ===
      JSON.stringify(JSON.parse(bytesToText(b.bytes)))
    );
  } catch {
    return bytesEqual(a.bytes, b.bytes);
  }
}

/** The inverse of bundleEntryToBody: how a value appears in a bundle. */
export function bodyToBundleEntry(bytes: Uint8Array, contentType: string): unknown {
  if (isJsonType(contentType)) return JSON.parse(bytesToText(bytes));
  return { base64: bytesToBase64(bytes), contentType } satisfies EncodedValue;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
