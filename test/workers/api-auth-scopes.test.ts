// Tokens with several scopes (src/api/auth.ts): each scope grants its operations on its own
// namespaces only; operations of one scope never combine with the namespaces of another, and
// token management needs admin on "*" within one scope.
import { describe, expect, it } from "vitest";
import { call, freshNs, mint, problemOf, put } from "./api/helpers.ts";

const read = (key: string, token: string) => call(`/v1/kv/${key}`, { token });
const remove = (key: string, token: string) => call(`/v1/kv/${key}`, { method: "DELETE", token });

describe("tokens with several scopes", () => {
  it("read on one namespace and write on another: no read-write on either", async () => {
    const a = freshNs("a");
    const b = freshNs("b");
    await put(`${a}/k`, 1);
    await put(`${b}/k`, 1);
    const t = await mint([
      { namespaces: [a], ops: ["read"] },
      { namespaces: [b], ops: ["write"] },
    ]);
    expect((await read(`${a}/k`, t.token)).status).toBe(200);
    expect((await put(`${b}/k`, 2, {}, t.token)).status).toBe(200);
    const writeA = await put(`${a}/k`, 2, {}, t.token);
    expect(writeA.status).toBe(403);
    expect((await problemOf(writeA)).detail).toContain(`may not write namespace "${a}"`);
    expect((await remove(`${a}/k`, t.token)).status).toBe(403);
    // Nothing was written by the refused requests.
    expect(
      await (await read(`${a}/k`, (await mint([{ namespaces: [a], ops: ["read"] }])).token)).json(),
    ).toBe(1);
  });

  it("a glob scope and an exact scope: each operation is checked against its own namespaces", async () => {
    const p = freshNs("team");
    const t = await mint([
      { namespaces: [`${p}-*`], ops: ["read"] },
      { namespaces: [`${p}-x`], ops: ["write"] },
    ]);
    expect((await put(`${p}-x/k`, 1, {}, t.token)).status).toBe(201);
    expect((await put(`${p}-y/k`, 1, {}, t.token)).status).toBe(403);
    await put(`${p}-y/k`, 1);
    expect((await read(`${p}-y/k`, t.token)).status).toBe(200);
    expect((await read(`${p}-x/k`, t.token)).status).toBe(200);
    // The glob is anchored: a namespace that only starts like it is not covered.
    await put(`${p}x/k`, 1);
    expect((await read(`${p}x/k`, t.token)).status).toBe(403);
  });

  it("admin on a namespace grants its reads and writes there, nowhere else", async () => {
    const a = freshNs("a");
    const b = freshNs("b");
    await put(`${b}/k`, 1);
    const t = await mint([
      { namespaces: [a], ops: ["admin"] },
      { namespaces: [b], ops: ["read"] },
    ]);
    expect((await put(`${a}/k`, 1, {}, t.token)).status).toBe(201);
    expect((await read(`${a}/k`, t.token)).status).toBe(200);
    expect((await put(`${b}/k`, 2, {}, t.token)).status).toBe(403);
  });

  it('token management needs admin on "*" in one scope: admin elsewhere and read on "*" do not add up', async () => {
    const a = freshNs("a");
    const split = await mint([
      { namespaces: ["*"], ops: ["read"] },
      { namespaces: [a], ops: ["admin"] },
    ]);
    const refused = await call("/v1/tokens", { token: split.token });
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).detail).toContain('token management needs admin on "*"');
    // A glob "*" in a scope is read on every namespace, but it is not token management either.
    await put(`${a}/k`, 1);
    expect((await read(`${a}/k`, split.token)).status).toBe(200);
    const both = await mint([
      { namespaces: [a], ops: ["read"] },
      { namespaces: ["*"], ops: ["admin"] },
    ]);
    expect((await call("/v1/tokens", { token: both.token })).status).toBe(200);
  });
});
