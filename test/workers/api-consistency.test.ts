// Consistency tokens: X-Edgecfg-Revision out, X-Edgecfg-Min-Revision in, ?consistency=stale.
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

describe("consistency tokens", () => {
  it("every response that read or wrote state carries X-Edgecfg-Revision; it advances with writes", async () => {
    const ns = freshNs();
    const t1 = (await put(`${ns}/k`, 1)).headers.get("X-Edgecfg-Revision")!;
    const t2 = (await put(`${ns}/k`, 2)).headers.get("X-Edgecfg-Revision")!;
    const [s1, r1] = t1.slice(1).split(".").map(Number);
    const [s2, r2] = t2.slice(1).split(".").map(Number);
    expect(s2).toBe(s1);
    expect(r2).toBe(r1! + 1);
    for (const path of [
      `/v1/kv/${ns}/k`,
      `/v1/kv/${ns}/k?meta`,
      `/v1/kv?prefix=${ns}/`,
      `/v1/ns/${ns}`,
      `/v1/kv/${ns}/k/history`,
      `/v1/kv/${ns}/missing`,
    ]) {
      expect((await call(path)).headers.get("X-Edgecfg-Revision"), path).toMatch(/^s\d+\.\d+$/);
    }
    expect(
      (await call(`/v1/kv/${ns}/k`, { method: "DELETE" })).headers.get("X-Edgecfg-Revision"),
    ).toMatch(/^s\d+\.\d+$/);
  });

  it("X-Edgecfg-Min-Revision: a token the shard has reached is honoured; malformed or foreign-future ones are 400", async () => {
    const ns = freshNs();
    const token = (await put(`${ns}/k`, 1)).headers.get("X-Edgecfg-Revision")!;
    expect(
      (await call(`/v1/kv/${ns}/k`, { headers: { "X-Edgecfg-Min-Revision": token } })).status,
    ).toBe(200);
    expect(
      (
        await problemOf(
          await call(`/v1/kv/${ns}/k`, { headers: { "X-Edgecfg-Min-Revision": "latest" } }),
        )
      ).detail,
    ).toContain("consistency token");
    const shard = token.slice(1).split(".")[0];
    const future = await call(`/v1/kv/${ns}/k`, {
      headers: { "X-Edgecfg-Min-Revision": `s${shard}.999999999` },
    });
    expect(future.status).toBe(400);
    expect((await problemOf(future)).detail).toContain("ahead of shard");
  });

  it("?consistency=stale answers with X-Edgecfg-Applied-Revision, a token X-Edgecfg-Min-Revision accepts", async () => {
    const ns = freshNs();
    const written = (await put(`${ns}/k`, 1)).headers.get("X-Edgecfg-Revision")!;
    const res = await call(`/v1/kv/${ns}/k?consistency=stale`);
    expect(res.status).toBe(200);
    const applied = res.headers.get("X-Edgecfg-Applied-Revision")!;
    const [shard, revision] = applied.slice(1).split(".").map(Number);
    expect(`s${shard}`).toBe(written.split(".")[0]);
    expect(revision).toBeGreaterThan(0);
    const pinned = await call(`/v1/kv/${ns}/k?consistency=stale`, {
      headers: { "X-Edgecfg-Min-Revision": applied },
    });
    expect(pinned.status).toBe(200);
    expect(
      (await call(`/v1/kv/${ns}/k?consistency=linearizable`)).headers.get(
        "X-Edgecfg-Applied-Revision",
      ),
    ).toBeNull();
    expect(
      (await call(`/v1/ns/${ns}?consistency=stale`)).headers.get("X-Edgecfg-Applied-Revision"),
    ).not.toBeNull();
    // Parsed queries are remembered per route: a bad one is refused every time, never remembered.
    for (let i = 0; i < 2; i++) {
      const bad = await call(`/v1/kv/${ns}/k?consistency=eventual`);
      expect(bad.status).toBe(400);
      expect((await problemOf(bad)).detail).toContain("consistency");
      expect(
        (await call(`/v1/kv/${ns}/k?consistency=linearizable`)).headers.get(
          "X-Edgecfg-Applied-Revision",
        ),
      ).toBeNull();
    }
  });

  it("a stale 404 says how old it may be too: X-Edgecfg-Applied-Revision beside X-Edgecfg-Revision", async () => {
    const ns = freshNs();
    await put(`${ns}/present`, 1);
    for (const path of [`/v1/kv/${ns}/absent?consistency=stale`, `/v1/kv/${ns}/absent`]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("Content-Type"), path).toContain("application/problem+json");
      expect(res.headers.get("X-Edgecfg-Revision"), path).toMatch(/^s\d+\.\d+$/);
    }
    const stale = await call(`/v1/kv/${ns}/absent?consistency=stale`, { method: "HEAD" });
    expect(stale.status).toBe(404);
    expect(stale.headers.get("X-Edgecfg-Applied-Revision")).toMatch(/^s\d+\.\d+$/);
    const get = await call(`/v1/kv/${ns}/absent?consistency=stale`);
    expect(get.headers.get("X-Edgecfg-Applied-Revision")).toMatch(/^s\d+\.\d+$/);
    const linearizable = await call(`/v1/kv/${ns}/absent`);
    expect(linearizable.headers.get("X-Edgecfg-Applied-Revision")).toBeNull();
  });

  it("a stale read answered again from the isolate cache has the headers of the first answer, CORS once", async () => {
    const ns = freshNs();
    await put(`${ns}/k`, { v: 1 });
    const headersOf = (res: Response) =>
      [...res.headers].filter(([name]) => name !== "date" && name !== "content-length");
    for (const path of [`/v1/kv/${ns}/k?consistency=stale`, `/v1/ns/${ns}?consistency=stale`]) {
      const first = await call(path);
      expect(first.status, path).toBe(200);
      const etag = first.headers.get("ETag")!;
      for (const conditional of [false, true]) {
        const answers = [];
        for (let i = 0; i < 3; i++) {
          const res = await call(path, conditional ? { headers: { "If-None-Match": etag } } : {});
          expect(res.status, path).toBe(conditional ? 304 : 200);
          answers.push({ headers: headersOf(res), body: await res.text() });
        }
        expect(answers[1], path).toEqual(answers[0]);
        expect(answers[2], path).toEqual(answers[0]);
        const names = answers[0]!.headers.map(([name]) => name);
        expect(new Set(names).size, path).toBe(names.length);
        const h = new Headers(answers[0]!.headers);
        expect(h.get("Access-Control-Allow-Origin"), path).toBe("*");
        expect(h.get("Access-Control-Expose-Headers"), path).toContain(
          "X-Edgecfg-Applied-Revision",
        );
        expect(h.get("ETag"), path).toBe(etag);
        expect(h.get("X-Edgecfg-Revision"), path).toMatch(/^s\d+\.\d+$/);
        expect(h.get("X-Edgecfg-Applied-Revision"), path).toMatch(/^s\d+\.\d+$/);
        expect(h.get("Content-Type") !== null, path).toBe(!conditional);
      }
    }
  });
});
