// ETags are a key's modRevision as a strong validator, "r<modRevision>" (quotes included), and
// never repeat for a key, so compare-and-set cannot suffer ABA. Namespace bundles use the
// namespace's last modRevision the same way.
import type { Revision } from "../store/index.ts";
import { badRequest } from "./problem.ts";

export function formatETag(modRevision: Revision): string {
  return `"r${modRevision}"`;
}

/** An ETag this API issued: "r" and the modRevision in its canonical form (no leading zeros). */
const strongOurs = /^"r(0|[1-9]\d{0,14})"$/;

/** RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs. */
const entityTag = /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/** A condition parsed from If-Match on a write. */
export type IfMatch = { type: "any" } | { type: "revision"; revision: Revision };

/** No key ever has modRevision 0 (the first write is revision 1): a tag that cannot match. */
const noRevision = 0;

function entityTags(header: string): string[] {
  // A #list (RFC 9110 §5.6.1): comma-separated, empty elements ignored; none at all is invalid.
  const tags = header
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const bad = tags.find((tag) => !entityTag.test(tag));
  if (tags.length === 0 || bad !== undefined) {
    throw badRequest(
      `If-Match ${JSON.stringify(header.slice(0, 64))} is not an entity tag (RFC 9110: a quoted ` +
        `string such as "r1042", with the quotes); send the ETag header of a GET or PUT exactly ` +
        "as received, or *",
    );
  }
  return tags;
}

/**
 * If-Match on PUT/DELETE (RFC 9110 §13.1.1): `*`, or a list of entity tags compared strongly. A
 * weak tag, or a well-formed tag this API never issued ("nope"), cannot match, so the write gets
 * 412 with the current ETag (revision 0 never matches in the store, atomically with the write).
 * Malformed → 400. Two different tags of ours cannot both be current: 400, send one.
 */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === "*") return { type: "any" };
  const revisions = new Set<Revision>();
  for (const tag of entityTags(value)) {
    const m = strongOurs.exec(tag);
    if (m) revisions.add(Number(m[1]));
  }
  if (revisions.size > 1) {
    throw badRequest(
      `If-Match ${JSON.stringify(value.slice(0, 64))} lists several ETags of this API; at most ` +
        'one can be current: send exactly one, e.g. "r1042"',
    );
  }
  const [revision] = revisions;
  return { type: "revision", revision: revision ?? noRevision };
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
