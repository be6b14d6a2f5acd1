// Keys in URLs. The key is taken from the raw request path, not from a decoded route parameter.
// A percent-encoded slash (%2F) is a separator like "/" itself: tools that address a key as
// /v1/kv/{namespace}/{name} (the OpenAPI document) encode the name's slashes, and both forms name
// the same key. Dot segments ("." and "..") are normally resolved by URL parsers (RFC 3986
// §5.2.4, and WHATWG's parser resolves "%2E%2E" too) before a request reaches the Worker;
// wherever they survive (bodies, query strings) the grammar rejects them.
import { validateKey, validatePrefix, validateNamespace, namespaceOf } from "../store/index.ts";
import { badRequest } from "./problem.ts";

/**
 * The last segment "history" is reserved: `GET /v1/kv/{key}/history` would otherwise be ambiguous
 * between the key "…/history" and the history of "…". A deviation from http-api.md, documented.
 */
export const reservedLastSegment = "history";

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest(`the key ${JSON.stringify(raw)} is not valid percent-encoding`);
  }
}

/** Validates a key from anywhere (path, body); throws 400 with the grammar in the detail. */
export function checkKey(key: string): string {
  const error = validateKey(key);
  if (error !== null) throw badRequest(`invalid key: ${error}`);
  if (key.slice(key.lastIndexOf("/") + 1) === reservedLastSegment) {
    throw badRequest(
      `invalid key ${JSON.stringify(key)}: a key may not end in the segment "history", ` +
        "which names the history endpoint (GET /v1/kv/{key}/history); choose another last segment",
    );
  }
  return key;
}

/** Keys of paths seen lately: hot keys are read again and again, and checking one is pure. */
const keysByPath = new Map<string, string>();
const keysByPathMax = 1_024;

/** The key in a raw path after `prefix` (e.g. "/v1/kv/"), minus `suffix` (e.g. "/history"). */
export function keyFromPath(url: string, prefix: string, suffix = ""): string {
  const path = pathOf(url);
  const memo = `${prefix}\u0000${suffix}\u0000${path}`;
  let key = keysByPath.get(memo);
  if (key === undefined) {
    key = parseKeyPath(path, prefix, suffix);
    if (keysByPath.size >= keysByPathMax) keysByPath.clear();
    keysByPath.set(memo, key);
  }
  return key;
}

function parseKeyPath(path: string, prefix: string, suffix: string): string {
  let raw = path.slice(prefix.length);
  if (suffix && raw.endsWith(suffix)) raw = raw.slice(0, -suffix.length);
  if (raw === "") throw badRequest("the URL names no key: use /v1/kv/{namespace}/{name}");
  const key = raw.split("/").map(decodeSegment).join("/");
  if (suffix && !key.includes("/")) {
    throw badRequest(
      `${JSON.stringify(key + suffix)} would be the history of ${JSON.stringify(key)}, which is not a key ` +
        `({namespace}/{name}); a key may not end in the segment "history"`,
    );
  }
  return checkKey(key);
}

/**
 * The percent-encoded path of a request URL as the runtime serialized it (scheme://host/path?query):
 * what `new URL(url).pathname` returns, without parsing the URL again on every request.
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return url.slice(start, end < 0 ? undefined : end);
}

export function checkNamespace(namespace: string): string {
  const error = validateNamespace(namespace);
  if (error !== null) throw badRequest(`invalid namespace: ${error}`);
  return namespace;
}

/** A prefix "{namespace}/{partial name}": every complete segment must be a valid one. */
export function checkPrefix(prefix: string): string {
  const error = validatePrefix(prefix);
  if (error !== null) throw badRequest(`invalid prefix: ${error}`);
  const segments = prefix
    .slice(prefix.indexOf("/") + 1)
    .split("/")
    .slice(0, -1);
  const bad = segments.find((s) => s === "" || s === "." || s === ".." || s.length > 128);
  if (bad !== undefined) {
    throw badRequest(
      `invalid prefix ${JSON.stringify(prefix)}: segment ${JSON.stringify(bad)} can never occur in a key ` +
        "(no empty, . or .. segments, at most 128 characters)",
    );
  }
  return prefix;
}

export { namespaceOf };
