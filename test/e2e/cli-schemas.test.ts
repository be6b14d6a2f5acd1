// `edgecfg ns types` and `ns import` under schemas, in process (run() with captured output)
// against the store served as `npm start` serves it: the types generated from the namespace's
// schemas compile and type getJSON<T>() as the schemas say; an import writes what conforms and
// lists what the schemas refuse (exit 1).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Io } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";

const root = resolve(import.meta.dirname, "../..");
const url = inject("e2eUrl");
const token = inject("e2eAdminToken");
const ns = `cli-schemas-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), "edgecfg-types-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function testIo(files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const decoder = new TextDecoder();
  const write = (to: string[]) => (c: string | Uint8Array) =>
    to.push(typeof c === "string" ? c : decoder.decode(c));
  const io: Io = {
    stdout: { write: write(out) },
    stderr: { write: write(err) },
    readStdin: async () => new Uint8Array(),
    readFile: async (name) => new TextEncoder().encode(files[name] ?? ""),
    writeFile: async () => {},
    env: { EDGECFG_URL: url, EDGECFG_TOKEN: token },
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

async function cli(argv: string[], files: Record<string, string> = {}) {
  const t = testIo(files);
  const code = await run(argv, t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

const flag = {
  type: "object",
  properties: {
    enabled: { type: "boolean" },
    rollout: { type: "integer", maximum: 100 },
    mode: { enum: ["a", "b"] },
  },
  required: ["enabled"],
  additionalProperties: false,
};

beforeAll(async () => {
  const res = await fetch(`${url}/v1/ns/${ns}/settings`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      schemas: { "flags/": flag, "": { type: "object" }, "limits/http": { type: "integer" } },
    }),
  });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
});

describe("edgecfg ns types", () => {
  it("prints one exported type per prefix, named from it, that types getJSON<T>() as the schema says", async () => {
    const r = await cli(["ns", "types", ns]);
    expect(r.code, r.stderr).toBe(0);
    const name =
      "CliSchemas" +
      ns.slice("cli-schemas-".length).replace(/^[a-z]|(?<=[0-9])[a-z]/g, (c) => c.toUpperCase());
    expect(r.stdout).toContain(`export interface ${name} {`);
    expect(r.stdout).toContain("export interface Flags {");
    expect(r.stdout).toContain("export type LimitsHttp = number;");
    const usage = [
      r.stdout,
      'import type { EdgecfgClient } from "../src/client/index.ts";',
      "export async function use(client: EdgecfgClient): Promise<boolean> {",
      `  const beta = await client.getJSON<Flags>("${ns}/flags/beta");`,
      '  const mode: "a" | "b" | undefined = beta.mode;',
      "  const rollout: number | undefined = beta.rollout;",
      "  void mode, rollout;",
      "  // @ts-expect-error: the schema has no such property",
      "  void beta.percent;",
      "  return beta.enabled;",
      "}",
    ].join("\n");
    const file = join(root, "test", `.types-${Date.now().toString(36)}.ts`);
    writeFileSync(file, usage);
    try {
      const tsc = join(root, "node_modules/typescript/bin/tsc");
      const args = [
        "--ignoreConfig",
        "--noEmit",
        "--strict",
        "--allowImportingTsExtensions",
        "--module",
        "nodenext",
      ];
      execFileSync(process.execPath, [tsc, ...args, "--skipLibCheck", file], { cwd: root });
    } catch (error) {
      throw new Error(`${(error as { stdout?: Buffer }).stdout?.toString()}\n${usage}`);
    } finally {
      rmSync(file, { force: true });
    }
  }, 60_000);

  it("says on stderr that a namespace without schemas has none (exit 0)", async () => {
    const r = await cli(["ns", "types", `${ns}-none`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/has no schemas: set some with PUT \/v1\/ns\/.*\/settings/);
    expect(r.stdout).not.toContain("export");
  });
});

describe("edgecfg ns import under schemas", () => {
  it("writes the conforming values and lists the refused ones with key, pointer and message (exit 1)", async () => {
    const bundle = {
      namespace: ns,
      revision: 1,
      entries: { "flags/a": { enabled: true }, "flags/b": { enabled: "yes" }, x: { y: 1 } },
    };
    writeFileSync(join(dir, "bundle.json"), JSON.stringify(bundle));
    const r = await cli(["ns", "import", ns, "bundle.json"], {
      "bundle.json": JSON.stringify(bundle),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2 created, .* 1 refused by its schemas/);
    expect(r.stderr).toContain(`${ns}/flags/b at "/enabled": Instance type "string" is invalid`);
    const got = await fetch(`${url}/v1/kv/${ns}/flags/b`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(got.status).toBe(404);
  });
});
