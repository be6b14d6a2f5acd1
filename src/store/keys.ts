// Key validation per docs (http-api.md, "Keys"). Each validator returns null when the input is
// valid, or an error string the API can put into a 400 `detail` as is.
import { storeLimits } from "./limits.ts";

const namespacePattern = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const segmentPattern = /^[A-Za-z0-9._~-]{1,128}$/;

/** The reserved namespace for tokens and settings; user keys cannot name it (leading "_"). */
export const systemNamespace = "_sys";

export function validateNamespace(namespace: string): string | null {
  if (namespacePattern.test(namespace)) return null;
  return (
    `namespace ${JSON.stringify(namespace)} must match [a-z0-9][a-z0-9_.-]{0,62} ` +
    "(lowercase letters, digits, '_', '.', '-'; 1 to 63 characters, starting with a letter or digit)"
  );
}

export function validateName(name: string): string | null {
  if (name.length === 0) return "key name is empty: use {namespace}/{name}";
  for (const segment of name.split("/")) {
    if (segment === "." || segment === "..")
      return `key name segment ${JSON.stringify(segment)} is not allowed`;
    if (!segmentPattern.test(segment)) {
      return (
        `key name segment ${JSON.stringify(segment)} must match [A-Za-z0-9._~-]{1,128} ` +
        "(no empty segments, no leading, trailing or double '/')"
      );
    }
  }
  return null;
}

export function validateKey(key: string): string | null {
  // Validated keys are ASCII, so string length is byte length and string order is byte order.
  if (key.length > storeLimits.keyBytesMax) {
    return `key is ${key.length} bytes; at most ${storeLimits.keyBytesMax} bytes are allowed`;
  }
  const slash = key.indexOf("/");
  if (slash < 0) return `key ${JSON.stringify(key)} must be {namespace}/{name}`;
  return validateNamespace(key.slice(0, slash)) ?? validateName(key.slice(slash + 1));
}

/** The namespace of a key that may not be valid yet ("" when there is no "/"). */
/** "application/json" and "+json" media types (RFC 6839), parameters ignored: a JSON value. */
export function isJsonMediaType(contentType: string): boolean {
  const essence = contentType.split(";")[0]!.trim().toLowerCase();
  return essence === "application/json" || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(essence);
}

export function namespaceOf(key: string): string {
  const slash = key.indexOf("/");
  return slash < 0 ? "" : key.slice(0, slash);
}

/** A list/watch prefix: "{namespace}/" followed by any partial name. */
export function validatePrefix(prefix: string): string | null {
  const slash = prefix.indexOf("/");
  if (slash < 0)
    return `prefix ${JSON.stringify(prefix)} must name a namespace: {namespace}/[partial name]`;
  if (prefix.length > storeLimits.keyBytesMax)
    return `prefix is longer than ${storeLimits.keyBytesMax} bytes`;
  const rest = prefix.slice(slash + 1);
  if (!/^[A-Za-z0-9._~/-]*$/.test(rest))
    return `prefix ${JSON.stringify(prefix)} contains characters no key can contain`;
  return validateNamespace(prefix.slice(0, slash));
}

/** Content-Type as written by the client: printable ASCII, bounded. */
export function validateContentType(contentType: string): string | null {
  if (contentType.length === 0) return "content type is empty";
  if (contentType.length > storeLimits.contentTypeBytesMax) {
    return `content type is longer than ${storeLimits.contentTypeBytesMax} bytes`;
  }
  if (!/^[\x20-\x7e]+$/.test(contentType)) return "content type must be printable ASCII";
  return null;
}

/** Byte order of two validated (ASCII) keys: -1, 0 or 1. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
