// Consistency of reads (src/api/consistency.ts; http-api.md, "Consistency of reads"): the read
// options a request asks for, X-Edgecfg-Min-Revision parsed as a consistency token, and the
// headers that say which state answered.
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import {
  appliedRevisionHeader,
  minRevisionHeader,
  readHeaders,
  readOptions,
  revisionHeader,
} from "../../src/api/consistency.ts";
import type { AppEnv, Ctx } from "../../src/api/context.ts";
import { ApiProblem } from "../../src/api/problem.ts";
import type { ReadOptions } from "../../src/router/index.ts";

// The router (for its token parser and limits) imports the Durable Objects, which need workerd.
vi.mock("cloudflare:workers", () => ({ DurableObject: class {} }));

type Outcome = { options: ReadOptions } | { status: number; detail?: string };

/** readOptions() on a GET with these headers. */
async function optionsOf(
  headers: Record<string, string>,
  consistency?: "linearizable" | "stale",
): Promise<Outcome> {
  const app = new Hono<AppEnv>();
  let outcome: Outcome = { status: 0 };
  app.get("/", (c: Ctx) => {
    try {
      outcome = { options: readOptions(c, consistency) };
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      outcome = { status: error.init.status, detail: error.init.detail };
    }
    return c.body(null, 204);
  });
  await app.request("/", { headers });
  return outcome;
}

describe("readOptions", () => {
  it("linearizable unless stale is asked for; no token unless one is sent", async () => {
    expect(await optionsOf({})).toStrictEqual({ options: { consistency: "linearizable" } });
    expect(await optionsOf({}, "linearizable")).toStrictEqual({
      options: { consistency: "linearizable" },
    });
    expect(await optionsOf({}, "stale")).toStrictEqual({ options: { consistency: "stale" } });
  });

  it("X-Edgecfg-Min-Revision is passed on as the token it is, of one shard or several", async () => {
    for (const token of ["s3.1042", "s0.0", "s0.5,s1.7", "s0.5, s1.7"]) {
      expect(await optionsOf({ [minRevisionHeader]: token }, "stale"), token).toStrictEqual({
        options: { consistency: "stale", minToken: token },
      });
    }
  });

  it("a header that is not a consistency token is 400, naming the header to send back", async () => {
    for (const token of [
      "",
      "1042",
      "s3",
      "s3.",
      "r1042",
      '"r1042"',
      "s3.10x",
      "s0.5,",
      "s0.5,x",
    ]) {
      expect(await optionsOf({ [minRevisionHeader]: token }), token).toEqual({
        status: 400,
        detail:
          `X-Edgecfg-Min-Revision ${JSON.stringify(token)} is not a consistency token; send back ` +
          "a X-Edgecfg-Revision header exactly as received (e.g. s3.1042)",
      });
    }
  });
});

describe("readHeaders", () => {
  it("says the state that answered; a stale read also its replica's applied state, as a token", () => {
    const read = { result: null, token: "s3.1042", appliedRevision: 1000 };
    expect(readHeaders(read, { consistency: "linearizable" })).toStrictEqual({
      [revisionHeader]: "s3.1042",
    });
    expect(readHeaders(read, { consistency: "stale" })).toStrictEqual({
      [revisionHeader]: "s3.1042",
      [appliedRevisionHeader]: "s3.1000",
    });
    expect(
      readHeaders({ ...read, token: "s12.7", appliedRevision: 9 }, { consistency: "stale" }),
    ).toStrictEqual({ [revisionHeader]: "s12.7", [appliedRevisionHeader]: "s12.9" });
  });

  it("the header names are the documented ones", () => {
    expect([revisionHeader, minRevisionHeader, appliedRevisionHeader]).toEqual([
      "X-Edgecfg-Revision",
      "X-Edgecfg-Min-Revision",
      "X-Edgecfg-Applied-Revision",
    ]);
  });
});
