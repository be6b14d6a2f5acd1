// Key handling on the client side. The server validates keys fully (http-api.md "Keys"); the
// client checks only what it must to build a correct URL: a "." or ".." segment would be
// resolved away by URL parsing and silently address another key.
import { ValidationError } from "./errors.ts";

/** The namespace of "ns/name" (or of a prefix "ns/…"). */
export function namespaceOf(keyOrPrefix: string): string {
  const slash = keyOrPrefix.indexOf("/");
  return slash < 0 ? keyOrPrefix : keyOrPrefix.slice(0, slash);
}

function invalid(detail: string): ValidationError {
  return new ValidationError(400, { status: 400, title: "Invalid key", detail });
}

/** Splits and checks a key; throws ValidationError before any request is made. */
export function keySegments(key: string): string[] {
  const segments = key.split("/");
  if (segments.length < 2 || segments.some((s) => s === "")) {
    throw invalid(`key "${key}" must look like "namespace/name" with no empty segments`);
  }
  if (segments.some((s) => s === "." || s === "..")) {
    throw invalid(`key "${key}" must not contain "." or ".." segments`);
  }
  return segments;
}

/** The path of a key under /v1/kv, each segment percent-encoded. */
export function kvPath(key: string): string {
  return "/v1/kv/" + keySegments(key).map(encodeURIComponent).join("/");
}

/** Checks a namespace name enough to put it in a path. */
export function nsPath(namespace: string): string {
  if (namespace === "" || namespace.includes("/") || namespace === "." || namespace === "..") {
    throw invalid(`namespace "${namespace}" must be one path segment, e.g. "app-prod"`);
  }
  return "/v1/ns/" + encodeURIComponent(namespace);
}
