import { describe, expect, it } from "vitest";
import {
  ConflictError,
  EdgecfgError,
  ForbiddenError,
  GoneError,
  NotFoundError,
  TooLargeError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from "../../src/client/index.ts";
import { errorFromResponse, parseRetryAfter } from "../../src/client/errors.ts";
import { entry, problem } from "./stub.ts";

describe("errors from problem+json", () => {
  it.each([
    [400, ValidationError],
    [422, ValidationError],
    [401, UnauthorizedError],
    [403, ForbiddenError],
    [404, NotFoundError],
    [410, GoneError],
    [412, ConflictError],
    [413, TooLargeError],
    [507, TooLargeError],
    [503, UnavailableError],
    [502, UnavailableError],
    [429, UnavailableError],
    [409, EdgecfgError],
    [500, EdgecfgError],
  ])("maps %i to %s", async (status, cls) => {
    const error = await errorFromResponse(problem(status));
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(EdgecfgError);
    expect(error.status).toBe(status);
    expect(error.detail).toBe(`status ${status}`);
    expect(error.type).toBe("https://edgecfg.dev/problems/x");
  });

  it("carries the current entry and ETag on a conflict", async () => {
    const error = await errorFromResponse(
      problem(412, { currentETag: '"r9"', entry: entry("app/a", 9) }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).currentETag).toBe('"r9"');
    expect((error as ConflictError).current?.modRevision).toBe(9);
  });

  it("reads Retry-After from the header, else from the body", async () => {
    const fromHeader = await errorFromResponse(problem(503, {}, { "retry-after": "2" }));
    expect((fromHeader as UnavailableError).retryAfter).toBe(2);
    const fromBody = await errorFromResponse(problem(503, { retryAfter: 5 }));
    expect((fromBody as UnavailableError).retryAfter).toBe(5);
  });

  it("keeps a non-JSON error body as the detail", async () => {
    const error = await errorFromResponse(
      new Response("upstream broke", { status: 502, statusText: "Bad Gateway" }),
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.detail).toBe("upstream broke");
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("120")).toBe(120);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
