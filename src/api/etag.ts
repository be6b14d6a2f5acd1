// ETags are a key's modRevision as a strong validator, "r<modRevision>" (quotes included), and
// never repeat for a key, so compare-and-set cannot suffer ABA. Namespace bundles use the
// namespace's last modRevision the same way.
import type { Revision } from "../store/index.ts";
import { badRequest } from "./problem.ts";

export function formatETag(modRevision: Revision): string {
  return `"r${modRevision}"`;
}

const strongOurs = /^"r(\d{1,15})"$/;

/** A condition parsed from If-Match on a write. */
export type IfMatch = { type: "any" } | { type: "revision"; revision: Revision };

/**
 * If-Match on PUT/DELETE: `*` or exactly one strong ETag as this API issues them. Weak ETags
 * cannot be used for writes (RFC 9110 §13.1.1: If-Match uses the strong comparison).
 */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === "*") return { type: "any" };
  if (value.startsWith("W/")) {
    throw badRequest(
      `If-Match ${JSON.stringify(value)} is a weak ETag; compare-and-set needs the strong ETag ` +
        `exactly as a GET or PUT returned it, e.g. "r1042" (with the quotes)`,
    );
  }
  if (value.includes(",")) {
    throw badRequest(
      `If-Match ${JSON.stringify(value)} lists several ETags; send exactly one, e.g. "r1042"`,
    );
  }
  const m = strongOurs.exec(value);
  if (!m) {
    throw badRequest(
      `If-Match ${JSON.stringify(value)} is not an ETag issued by this API; send the ETag ` +
        `header of a GET or PUT exactly as received, e.g. "r1042" (with the quotes), or *`,
    );
  }
  return { type: "revision", revision: Number(m[1]) };
}

/** If-None-Match on PUT: only `*` (create-only) has a meaning for a write here. */
export function parseIfNoneMatchWrite(header: string | undefined): "*" | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "*";
  throw badRequest(
    `If-None-Match ${JSON.stringify(header)} on a write must be * (create only); ` +
      "to update only a known version use If-Match with its ETag",
  );
}

/**
 * If-None-Match on GET: a list of ETags or `*`, compared weakly (RFC 9110 §13.1.2). Entries this
 * API could not have issued simply never match. Returns the modRevisions listed, or "*".
 */
export function parseIfNoneMatchRead(header: string | undefined): Revision[] | "*" | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "*";
  const revisions: Revision[] = [];
  for (const part of header.split(",")) {
    const m = strongOurs.exec(part.trim().replace(/^W\//, ""));
    if (m) revisions.push(Number(m[1]));
  }
  return revisions;
}

/** Whether the current modRevision (null: absent) matches an If-None-Match read condition. */
export function noneMatchHits(
  condition: Revision[] | "*" | undefined,
  current: Revision | null,
): boolean {
  if (condition === undefined || current === null) return false;
  return condition === "*" || condition.includes(current);
}
