// `ns diff|apply|rollback` and `--dry-run` in-process, against a stub store: what is sent, what is
// printed (coloured only on a terminal), and the exit codes.
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/main.ts";
import type { Io } from "../../src/cli/io.ts";
import { json, problem, stubFetch, type Stub } from "./stub.ts";

function testIo(stub: Stub, files: Record<string, string>, tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: { write: (c) => out.push(String(c)), isTTY: tty },
    stderr: { write: (c) => err.push(String(c)) },
    readStdin: async () => new Uint8Array(),
    readFile: async (p) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return new TextEncoder().encode(files[p]);
    },
    writeFile: async (p, d) => void (files[p] = d),
    readDir: async (p) => {
      const inside = Object.keys(files).filter((f) => f.startsWith(`${p}/`));
      return inside.length === 0 ? null : inside.map((f) => f.slice(p.length + 1));
    },
    env: { EDGECFG_URL: "http://store.test", EDGECFG_TOKEN: "tok" },
    fetch: stub.fetch,
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join(""), files };
}

const plan = {
  dryRun: true,
  baseRevision: 7,
  result: { namespace: "app", revision: 8, changed: true, changes: [] },
  diff: [
    { key: "app/flags", change: "update", before: { beta: true }, after: { beta: false } },
    { key: "app/motd/en", change: "create", after: { contentType: "text/plain", base64: "aGk=" } },
  ],
};

const folder = {
  "cfg/flags.json": '{"beta": false}',
  "cfg/motd/en.txt": "hi",
  "cfg/.git/HEAD": "ref",
};

describe("ns diff and apply", () => {
  it("send the folder as a dry-run apply (names from paths, JSON inline, dot files skipped)", async () => {
    const stub = stubFetch(() => json(plan));
    const t = testIo(stub, { ...folder });
    expect(await run(["ns", "diff", "app", "cfg", "--prune"], t.io)).toBe(0);
    const req = stub.requests[0]!;
    expect(req.url).toBe("http://store.test/v1/ns/app/apply?dryRun=true");
    expect(await req.json()).toEqual({
      entries: {
        flags: { beta: false },
        "motd/en": { base64: "aGk=", contentType: "text/plain; charset=utf-8" },
      },
      prune: true,
    });
    expect(t.stdout()).toContain("app at revision 7: 1 to create, 1 to update, 0 to delete");
    expect(t.stdout()).toContain("~ app/flags");
    expect(t.stdout()).not.toContain("\u001b[");
  });

  it("colour the diff on a terminal only", async () => {
    const t = testIo(
      stubFetch(() => json(plan)),
      { ...folder },
      true,
    );
    expect(await run(["ns", "diff", "app", "cfg"], t.io)).toBe(0);
    expect(t.stdout()).toContain("\u001b[33m~ app/flags");
  });

  it("write a plan, then apply exactly it with ifRevision; a stale one exits 3", async () => {
    let stale = false;
    const stub = stubFetch((req) =>
      new URL(req.url).search === "?dryRun=true"
        ? json(plan)
        : stale
          ? problem(412, { currentETag: '"r9"' })
          : json({ ...plan.result }),
    );
    const t = testIo(stub, { ...folder });
    expect(await run(["ns", "apply", "app", "cfg", "--plan-out", "plan.json"], t.io)).toBe(0);
    expect(stub.requests).toHaveLength(1);
    expect(JSON.parse(t.files["plan.json"]!)).toMatchObject({ baseRevision: 7, diff: plan.diff });
    expect(await run(["ns", "apply", "app", "--plan", "plan.json"], t.io)).toBe(0);
    expect(await stub.requests[1]!.json()).toMatchObject({ ifRevision: 7 });
    stale = true;
    expect(await run(["ns", "apply", "app", "--plan", "plan.json"], t.io)).toBe(3);
    expect(t.stderr()).toContain("changed since the plan was made at revision 7");
    expect(await run(["ns", "apply", "other", "--plan", "plan.json"], t.io)).toBe(2);
    expect(await run(["ns", "apply", "app", "cfg", "--plan", "plan.json"], t.io)).toBe(2);
  });
});

describe("ns diff with a read-only token", () => {
  it("diffs against a read of the bundle, by value, and says what it cannot check", async () => {
    const bundle = {
      namespace: "app",
      revision: 9,
      entries: {
        flags: { beta: false },
        old: 1,
        "motd/en": { contentType: "text/plain", base64: "aGk=" },
      },
      meta: {
        flags: { contentType: "application/json", version: 1, modRevision: 3 },
        old: { contentType: "application/json", version: 1, modRevision: 4 },
        "motd/en": { contentType: "text/plain", version: 1, modRevision: 5 },
      },
    };
    const stub = stubFetch((req) => (req.method === "POST" ? problem(403) : json(bundle)));
    const t = testIo(stub, { "cfg/flags.json": '{ "beta" : false }', "cfg/motd/en.txt": "hi!" });
    expect(await run(["ns", "diff", "app", "cfg", "--prune", "--json"], t.io)).toBe(0);
    expect(JSON.parse(t.stdout())).toMatchObject({
      baseRevision: 9,
      diff: [
        { key: "app/motd/en", change: "update" },
        { key: "app/old", change: "delete" },
      ],
    });
    expect(t.stderr()).toContain("schemas and quotas are checked only by a dry run");
  });
});

describe("--dry-run on single writes", () => {
  it("kv put and kv rm ask for a dry run and print what would change", async () => {
    const answer = { ...plan, diff: [plan.diff[0]], result: {} };
    const stub = stubFetch(() => json(answer));
    const t = testIo(stub, {});
    expect(await run(["kv", "put", "app/flags", '{"beta":false}', "--dry-run"], t.io)).toBe(0);
    expect(await run(["kv", "rm", "app/flags", "--dry-run", "--json"], t.io)).toBe(0);
    expect(stub.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "PUT http://store.test/v1/kv/app/flags?dryRun=true",
      "DELETE http://store.test/v1/kv/app/flags?dryRun=true",
    ]);
    expect(t.stdout()).toContain("~ app/flags");
  });

  it("ns rollback --dry-run shows the plan; without it, rolls back", async () => {
    const stub = stubFetch((req) =>
      new URL(req.url).search === "?dryRun=true" ? json(plan) : json(plan.result),
    );
    const t = testIo(stub, {});
    expect(await run(["ns", "rollback", "app", "--to-revision", "5", "--dry-run"], t.io)).toBe(0);
    expect(t.stdout()).toContain("would be:");
    expect(await run(["ns", "rollback", "app", "--to-revision", "5"], t.io)).toBe(0);
    expect(await stub.requests[1]!.json()).toEqual({ toRevision: 5 });
    expect(t.stdout()).toContain("applied to app at revision 8");
  });
});
