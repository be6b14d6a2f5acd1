// Audit over HTTP (http-api.md "Audit"): every write records who, when and why; history, watch
// and GET /v1/audit show it. Every answer is checked against the OpenAPI document (call()).
import { describe, expect, it } from "vitest";
import { call, freshNs, problemOf, put } from "./api/helpers.ts";

interface AuditPage {
  namespace: string;
  items: Array<{
    revision: number;
    at: string;
    actor: { kind: string; id?: string; name?: string };
    reason?: string;
    requestId: string;
    op: string;
    keys: string[];
  }>;
  cursor: string | null;
}

async function auditOf(namespace: string, query = "", token?: string | null): Promise<AuditPage> {
  const res = await call(`/v1/audit?namespace=${namespace}${query}`, {
    ...(token === undefined ? {} : { token }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as AuditPage;
}

async function mintNamed(name: string, scopes: unknown[]): Promise<{ id: string; token: string }> {
  const res = await call("/v1/tokens", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ scopes, name }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

/** The first `put` event of a watch stream. */
async function firstPut(res: Response): Promise<Record<string, unknown>> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the stream ended before a put event");
      buffer += value;
      const at = buffer.indexOf("event: put\ndata: ");
      const end = at < 0 ? -1 : buffer.indexOf("\n", at + 17);
      if (end >= 0) return JSON.parse(buffer.slice(at + 17, end));
    }
  } finally {
    await reader.cancel();
  }
}

describe("audit of writes", () => {
  it("a PUT records the admin, its time, its reason and its X-Request-Id; history shows them", async () => {
    const ns = freshNs();
    const before = Date.now();
    const res = await put(
      `${ns}/a`,
      { v: 1 },
      {
        "X-Edgecfg-Reason": "raise the limit",
        "X-Request-Id": "req-put-1",
      },
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("X-Request-Id")).toBe("req-put-1");
    const history = (await (await call(`/v1/kv/${ns}/a/history`)).json()) as {
      items: Array<Record<string, unknown>>;
    };
    expect(history.items[0]).toMatchObject({
      actor: { kind: "admin" },
      reason: "raise the limit",
      requestId: "req-put-1",
    });
    expect(Date.parse(history.items[0]!.at as string)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("a write without X-Request-Id gets one made, echoed and recorded; a read without one gets none", async () => {
    const ns = freshNs();
    const res = await put(`${ns}/a`, "x");
    const made = res.headers.get("X-Request-Id");
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    const [item] = (await auditOf(ns)).items;
    expect(item).toMatchObject({ requestId: made, op: "put", keys: [`${ns}/a`] });
    expect((await call(`/v1/kv/${ns}/a`)).headers.get("X-Request-Id")).toBeNull();
    const echoed = await call(`/v1/kv/${ns}/a`, { headers: { "X-Request-Id": "trace-1" } });
    expect(echoed.headers.get("X-Request-Id")).toBe("trace-1");
  });

  it("lists a namespace's revisions newest first with op and keys, page by page", async () => {
    const ns = freshNs();
    await put(`${ns}/a`, "1", { "X-Request-Id": "r1" });
    await call("/v1/txn", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-Id": "r2" },
      body: JSON.stringify({
        compare: [],
        success: [
          { type: "put", key: `${ns}/b`, value: 2 },
          { type: "put", key: `${ns}/c`, value: 3 },
        ],
        failure: [],
      }),
    });
    await call(`/v1/kv/${ns}/a`, {
      method: "DELETE",
      headers: { "X-Request-Id": "r3", "X-Edgecfg-Reason": "unused" },
    });
    const first = await auditOf(ns, "&limit=2");
    expect(first.items.map((i) => [i.op, i.keys, i.requestId, i.reason])).toEqual([
      ["delete", [`${ns}/a`], "r3", "unused"],
      ["txn", [`${ns}/b`, `${ns}/c`], "r2", undefined],
    ]);
    expect(first.cursor).not.toBeNull();
    const second = await auditOf(ns, `&limit=2&cursor=${first.cursor}`);
    expect(second.items.map((i) => i.requestId)).toEqual(["r1"]);
    expect(second.cursor).toBeNull();
  });

  it("a named token is the actor of its writes, by id and name; GET /v1/tokens shows the name", async () => {
    const ns = freshNs();
    const ci = await mintNamed("ci-deploy", [{ namespaces: [ns], ops: ["write", "read"] }]);
    expect((await put(`${ns}/a`, "1", {}, ci.token)).status).toBe(201);
    const [item] = (await auditOf(ns, "", ci.token)).items;
    expect(item!.actor).toEqual({ kind: "token", id: ci.id, name: "ci-deploy" });
    const tokens = (await (await call("/v1/tokens")).json()) as {
      tokens: Array<{ id: string; name: string | null }>;
    };
    expect(tokens.tokens.find((t) => t.id === ci.id)?.name).toBe("ci-deploy");
  });

  it("a UTF-8 reason is recorded as sent; one over 256 bytes is refused with 400 and not written", async () => {
    const ns = freshNs();
    const reason = "Preise erhöht für den Verkauf — ✓";
    const ok = await put(`${ns}/a`, "1", { "X-Edgecfg-Reason": reason });
    expect(ok.status).toBe(201);
    expect((await auditOf(ns)).items[0]!.reason).toBe(reason);
    const long = await put(`${ns}/a`, "2", { "X-Edgecfg-Reason": "é".repeat(129) });
    expect(long.status).toBe(400);
    expect((await problemOf(long)).detail).toContain("X-Edgecfg-Reason is 258 bytes");
    expect(await (await call(`/v1/kv/${ns}/a`)).text()).toBe("1");
    const bad = await put(`${ns}/a`, "3", { "X-Request-Id": "has space" });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).detail).toContain("X-Request-Id must be");
  });

  it("watch events carry the actor, time, reason and request id of their revision", async () => {
    const ns = freshNs();
    const res = await put(`${ns}/a`, "1", { "X-Edgecfg-Reason": "why", "X-Request-Id": "w-1" });
    const { modRevision } = (await res.json()) as { modRevision: number };
    const watch = await call(`/v1/watch?prefix=${ns}/&fromRevision=${modRevision}`);
    expect(await firstPut(watch)).toMatchObject({
      key: `${ns}/a`,
      actor: { kind: "admin" },
      reason: "why",
      requestId: "w-1",
      at: expect.stringMatching(/^\d{4}-/),
    });
  });

  it("a token with read scope may list its namespace's audit; others get 403, no token 401", async () => {
    const ns = freshNs();
    await put(`${ns}/a`, "1");
    const reader = await mintNamed("reader", [{ namespaces: [ns], ops: ["read"] }]);
    const other = await mintNamed("other", [{ namespaces: ["elsewhere"], ops: ["read"] }]);
    expect((await auditOf(ns, "", reader.token)).items).toHaveLength(1);
    const forbidden = await call(`/v1/audit?namespace=${ns}`, { token: other.token });
    expect(forbidden.status).toBe(403);
    expect((await call(`/v1/audit?namespace=${ns}`, { token: null })).status).toBe(401);
    // _sys names token ids and every namespace: admins only, not even a reader of all namespaces.
    const everything = await mintNamed("all-reader", [{ namespaces: ["*"], ops: ["read"] }]);
    expect((await auditOf(ns, "", everything.token)).items).toHaveLength(1);
    expect((await call("/v1/audit?namespace=_sys", { token: everything.token })).status).toBe(403);
    expect((await call("/v1/audit?namespace=Bad!")).status).toBe(400);
  });

  it("token minting and namespace settings are listed under _sys, for admins", async () => {
    const ns = freshNs();
    const named = await mintNamed(`n-${ns}`.slice(0, 64), [{ namespaces: [ns], ops: ["read"] }]);
    const settings = await call(`/v1/ns/${ns}/settings`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-Edgecfg-Reason": "open the docs" },
      body: JSON.stringify({ publicRead: true }),
    });
    expect(settings.status).toBe(200);
    const { items } = await auditOf("_sys", "&limit=1000");
    expect(items.find((i) => i.keys[0] === `_sys/settings/${ns}`)).toMatchObject({
      op: "namespaceSet",
      reason: "open the docs",
      actor: { kind: "admin" },
    });
    expect(items.find((i) => i.keys[0] === `_sys/tokens/${named.id}`)?.op).toBe("tokenCreate");
  });
});

describe("audit of safe publishing", () => {
  it("an apply and a rollback record who and why, with the keys they wrote", async () => {
    const ns = freshNs();
    const post = (path: string, body: unknown, reason: string) =>
      call(`/v1/ns/${ns}/${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Edgecfg-Reason": reason },
        body: JSON.stringify(body),
      });
    const applied = await post("apply", { entries: { a: 1, b: 2 } }, "release 7");
    expect(applied.status).toBe(200);
    const first = (await applied.json()) as { revision: number };
    expect((await post("apply", { entries: { a: 3 } }, "hotfix")).status).toBe(200);
    const rolled = await post("rollback", { toRevision: first.revision }, "undo the hotfix");
    expect(rolled.status).toBe(200);
    const { items } = await auditOf(ns);
    expect(items.map((i) => [i.op, i.reason, i.actor.kind, [...i.keys].sort()])).toEqual([
      ["namespaceRollback", "undo the hotfix", "admin", [`${ns}/a`]],
      ["namespaceApply", "hotfix", "admin", [`${ns}/a`]],
      ["namespaceApply", "release 7", "admin", [`${ns}/a`, `${ns}/b`]],
    ]);
  });
});
