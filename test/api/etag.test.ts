// ETags and the preconditions on them (src/api/etag.ts): RFC 9110 §8.8.3 (entity-tag grammar),
// §13.1.1 (If-Match, strong comparison), §13.1.2 (If-None-Match, weak comparison), and
// http-api.md: an ETag is `"r<modRevision>"`, `If-Match` is compare-and-set, `If-None-Match: *`
// on a write is create-only, `If-None-Match` on a read is 304.
import { describe, expect, it } from "vitest";
import {
  formatETag,
  noneMatchHits,
  parseIfMatch,
  parseIfNoneMatchRead,
  parseIfNoneMatchWrite,
} from "../../src/api/etag.ts";
import { ApiProblem } from "../../src/api/problem.ts";

/** The 400 that `parse` throws: its status and detail. */
function refusal(parse: () => unknown): { status: number; detail: string | undefined } {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return { status: error.init.status, detail: error.init.detail };
  }
  throw new Error("accepted");
}

const malformedDetail = (header: string) =>
  `If-Match ${JSON.stringify(header)} is not an entity tag (RFC 9110: a quoted string such as ` +
  '"r1042", with the quotes); send the ETag header of a GET or PUT exactly as received, or *';

describe("formatETag", () => {
  it("is the modRevision as a strong entity tag, quotes included", () => {
    expect(formatETag(1042)).toBe('"r1042"');
    expect(parseIfMatch(formatETag(1042))).toEqual({ type: "revision", revision: 1042 });
    expect(parseIfNoneMatchRead(formatETag(7))).toEqual([7]);
  });
});

describe("If-Match on a write (§13.1.1, strong comparison)", () => {
  it("absent is no condition; * (whitespace around it ignored) matches any current entry", () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch("*")).toEqual({ type: "any" });
    expect(parseIfMatch("  *  ")).toEqual({ type: "any" });
  });

  it("one of our ETags is a compare-and-set on its modRevision, up to 15 digits", () => {
    expect(parseIfMatch('"r1"')).toEqual({ type: "revision", revision: 1 });
    expect(parseIfMatch(' "r42" ')).toEqual({ type: "revision", revision: 42 });
    expect(parseIfMatch('"r999999999999999"')).toEqual({
      type: "revision",
      revision: 999_999_999_999_999,
    });
  });

  it("a well-formed tag we never issued cannot match: revision 0, so the write gets 412", () => {
    for (const tag of [
      '"nope"',
      '""',
      'W/"r5"', // weak: never matches under the strong comparison
      '"r05"', // not the canonical form of a modRevision
      '"r00"',
      '"r-5"',
      '"R5"',
      '"r5x"',
      '"xr5"',
      '"r"',
      '"r1234567890123456"', // 16 digits: beyond any modRevision
      '"r!#~\x80\xff"',
    ]) {
      expect(parseIfMatch(tag), tag).toEqual({ type: "revision", revision: 0 });
    }
  });

  it("a list is a #list: empty elements and whitespace around elements are ignored", () => {
    expect(parseIfMatch('"nope", "r5"')).toEqual({ type: "revision", revision: 5 });
    expect(parseIfMatch(', ,"r5",, W/"r6" ,')).toEqual({ type: "revision", revision: 5 });
    expect(parseIfMatch('"r5","r5"')).toEqual({ type: "revision", revision: 5 });
    expect(parseIfMatch('"a", W/"b"')).toEqual({ type: "revision", revision: 0 });
  });

  it("two different ETags of ours cannot both be current: 400, send one", () => {
    for (const header of ['"r5", "r6"', '"r1","nope","r2"']) {
      expect(
        refusal(() => parseIfMatch(header)),
        header,
      ).toEqual({
        status: 400,
        detail:
          `If-Match ${JSON.stringify(header)} lists several ETags of this API; at most one can ` +
          'be current: send exactly one, e.g. "r1042"',
      });
    }
    const long = `"r1", "r2", ${'"x", '.repeat(20)}"y"`;
    expect(refusal(() => parseIfMatch(long)).detail).toContain(
      JSON.stringify(long.slice(0, 64)) + " lists",
    );
  });

  it("anything but entity tags or * is malformed: 400 with how to send it", () => {
    for (const header of [
      "r5", // the quotes are part of the tag
      '"r5',
      'r5"',
      '"r5"x',
      'x"r5"',
      'w/"r5"',
      'W"r5"',
      '"a"b"',
      '"a b"',
      '"\x7f"',
      '"\x20"',
      "**",
      '*, "r5"',
      '"r5", r6',
      ",",
      " , ,",
      "",
      "   ",
    ]) {
      expect(
        refusal(() => parseIfMatch(header)),
        header,
      ).toEqual({
        status: 400,
        detail: malformedDetail(header.trim()),
      });
    }
  });

  it("the 400 quotes at most the first 64 characters of the header", () => {
    const header = `"r1", ${"x".repeat(100)}`;
    expect(refusal(() => parseIfMatch(header)).detail).toBe(malformedDetail(header.slice(0, 64)));
  });
});

describe("If-None-Match on a write", () => {
  it("only * (create only) has a meaning; absent is no condition", () => {
    expect(parseIfNoneMatchWrite(undefined)).toBeUndefined();
    expect(parseIfNoneMatchWrite("*")).toBe("*");
    expect(parseIfNoneMatchWrite(" * ")).toBe("*");
  });

  it("an ETag list is 400, pointing to If-Match for updating a known version", () => {
    for (const header of ['"r5"', "", "**", '*, "r5"']) {
      expect(
        refusal(() => parseIfNoneMatchWrite(header)),
        header,
      ).toEqual({
        status: 400,
        detail:
          `If-None-Match ${JSON.stringify(header)} on a write must be * (create only); to ` +
          "update only a known version use If-Match with its ETag",
      });
    }
  });
});

describe("If-None-Match on a read (§13.1.2, weak comparison)", () => {
  it("absent is no condition; * (whitespace around it ignored) is any", () => {
    expect(parseIfNoneMatchRead(undefined)).toBeUndefined();
    expect(parseIfNoneMatchRead("*")).toBe("*");
    expect(parseIfNoneMatchRead(" * ")).toBe("*");
  });

  it("lists the modRevisions of our tags, weak or strong, in order", () => {
    expect(parseIfNoneMatchRead('"r3", W/"r1" ,"r2"')).toEqual([3, 1, 2]);
    expect(parseIfNoneMatchRead(' W/"r9" ')).toEqual([9]);
    expect(parseIfNoneMatchRead('"r999999999999999"')).toEqual([999_999_999_999_999]);
  });

  it("entries this API could not have issued never match, and are not an error", () => {
    for (const header of [
      '"nope"',
      "r5",
      '"r5"x',
      'x"r5"',
      'xW/"r5"',
      '"W/r5"', // an opaque tag, not a weak one
      'w/"r5"',
      '"r05"',
      '"r1234567890123456"',
      "",
      ",,",
      "**",
    ]) {
      expect(parseIfNoneMatchRead(header), header).toEqual([]);
    }
    expect(parseIfNoneMatchRead('"nope", "r4", *')).toEqual([4]);
  });
});

describe("noneMatchHits (a read answers 304 when it hits)", () => {
  it("no condition never hits", () => {
    expect(noneMatchHits(undefined, 5)).toBe(false);
    expect(noneMatchHits(undefined, null)).toBe(false);
  });

  it("an absent key hits no condition, not even *", () => {
    expect(noneMatchHits("*", null)).toBe(false);
    expect(noneMatchHits([0], null)).toBe(false);
    expect(noneMatchHits([], null)).toBe(false);
  });

  it("* hits any present key; a list hits exactly the modRevisions it names", () => {
    expect(noneMatchHits("*", 1)).toBe(true);
    expect(noneMatchHits([3, 5], 5)).toBe(true);
    expect(noneMatchHits([3, 5], 3)).toBe(true);
    expect(noneMatchHits([3, 5], 4)).toBe(false);
    expect(noneMatchHits([], 4)).toBe(false);
  });
});
