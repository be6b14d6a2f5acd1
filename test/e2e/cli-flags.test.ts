// `edgecfg flags list|eval` in process (run() with captured output) against the store served as
// `npm start` serves it: flags evaluated from the bundle, and the CLI's exit codes.
import { describe, expect, inject, it, beforeAll } from "vitest";
import type { Io } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";

const url = inject("e2eUrl");
const token = inject("e2eAdminToken");
const ns = `cli-flags-${Date.now().toString(36)}`;

function testIo() {
  const out: string[] = [];
  const err: string[] = [];
  const decoder = new TextDecoder();
  const write = (to: string[]) => (c: string | Uint8Array) =>
    to.push(typeof c === "string" ? c : decoder.decode(c));
  const io: Io = {
    stdout: { write: write(out) },
    stderr: { write: write(err) },
    readStdin: async () => new Uint8Array(),
    readFile: async () => new Uint8Array(),
    writeFile: async () => {},
    env: { EDGECFG_URL: url, EDGECFG_TOKEN: token },
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

async function cli(...argv: string[]) {
  const t = testIo();
  const code = await run(argv, t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

beforeAll(async () => {
  const put = async (name: string, value: unknown) => {
    const res = await fetch(`${url}/v1/kv/${ns}/${name}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(value),
    });
    if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  };
  await put("checkout", {
    state: "ENABLED",
    defaultVariant: "classic",
    variants: { classic: "classic", onepage: "onepage" },
    targeting: { if: [{ "==": [{ var: "country" }, "DE"] }, "onepage", null] },
  });
  await put("limit", 20);
});

describe("edgecfg flags", () => {
  it("list names each flag, flagd or static", async () => {
    const r = await cli("flags", "list", ns);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("checkout\tflagd\tENABLED variants=classic,onepage default=classic");
    expect(lines[1]).toMatch(/^limit\tstatic\t"r\d+"$/);
    const json = JSON.parse((await cli("--json", "flags", "list", ns)).stdout);
    expect(json.flags.map((f: { key: string }) => f.key)).toEqual(["checkout", "limit"]);
  });

  it("eval evaluates against --context", async () => {
    const de = await cli("flags", "eval", ns, "checkout", "--context", '{"country":"DE"}');
    expect(de).toMatchObject({
      code: 0,
      stdout: '"onepage"\treason=TARGETING_MATCH variant=onepage\n',
    });
    const us = await cli(
      "--json",
      "flags",
      "eval",
      ns,
      "checkout",
      "--context",
      '{"country":"US"}',
    );
    expect(JSON.parse(us.stdout)).toMatchObject({
      key: "checkout",
      value: "classic",
      reason: "DEFAULT",
    });
    const plain = await cli("flags", "eval", ns, "checkout");
    expect(plain.stdout).toContain("reason=DEFAULT");
  });

  it("exit codes: 4 for a missing flag, 2 for a bad context, 1 for a refused token", async () => {
    const missing = await cli("flags", "eval", ns, "nope");
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("FLAG_NOT_FOUND");
    expect((await cli("flags", "eval", ns, "checkout", "--context", "{oops")).code).toBe(2);
    expect((await cli("flags", "eval", ns, "checkout", "--context", "[1]")).code).toBe(2);
    expect((await cli("flags", "eval", ns)).code).toBe(2);
    expect((await cli("--token", "wrong", "flags", "list", ns)).code).toBe(1);
  });
});
