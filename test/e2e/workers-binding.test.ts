// The Workers binding, with two Workers in workerd: edgecfg as `npm start` bundles it, and
// callers bound to its EdgecfgEntrypoint with [[services]]: the documented example
// (examples/flags-worker, its wrangler.toml read as written) and a probe calling every method.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleWorker } from "../../scripts/local-server.ts";

const probe = `export default {
  async fetch(request, env) {
    const { method, args } = await request.json();
    try {
      return Response.json({ ok: true, result: await env.EDGECFG[method](...args) });
    } catch (e) {
      return Response.json({ ok: false, message: String(e.message) });
    }
  },
};`;

/** The SDK-using Worker, bundled as wrangler would (node builtins from nodejs_compat). */
async function sdkCaller(): Promise<string> {
  const out = await build({
    entryPoints: [new URL("./binding/sdk-caller.ts", import.meta.url).pathname],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["node:*", "async_hooks"],
    target: "es2022",
  });
  return out.outputFiles[0]!.text;
}

let mf: Miniflare;
let bundleDir: string;

beforeAll(async () => {
  const root = process.cwd();
  const bundle = bundleWorker(root, join(root, "wrangler.toml"));
  bundleDir = bundle.dir;
  const edgecfg = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml")).workerOptions;
  const example = join(root, "examples/flags-worker");
  const caller = unstable_getMiniflareWorkerOptions(join(example, "wrangler.toml")).workerOptions;
  const workers = [
    {
      ...edgecfg,
      name: "edgecfg",
      // As deployed: the secret is set (the binding's fetch acts with it), but no caller has it.
      bindings: { ...(edgecfg.bindings as object), ADMIN_TOKEN: crypto.randomUUID() },
      modulesRoot: bundle.dir,
      modules: [{ type: "ESModule", path: bundle.main }],
    },
    {
      ...caller,
      name: "flags-worker",
      modules: [{ type: "ESModule", path: join(example, "worker.js") }],
    },
    {
      name: "sdk-caller",
      modules: true,
      script: await sdkCaller(),
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      serviceBindings: caller.serviceBindings,
    },
    {
      name: "probe",
      modules: true,
      script: probe,
      compatibilityDate: "2026-11-01",
      serviceBindings: caller.serviceBindings,
    },
  ];
  mf = new Miniflare(
    convertV4MiniflareOptions({ workers } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

async function call(method: string, ...args: unknown[]) {
  const worker = await mf.getWorker("probe");
  const res = await worker.fetch("http://probe/", {
    method: "POST",
    body: JSON.stringify({ method, args }),
  });
  return (await res.json()) as { ok: boolean; result?: any; message?: string };
}

const checkout = {
  state: "ENABLED",
  defaultVariant: "classic",
  variants: { classic: "classic", onepage: "onepage" },
  targeting: { if: [{ "==": [{ var: "country" }, "DE"] }, "onepage", null] },
};

describe("EdgecfgEntrypoint over a service binding", () => {
  it("writes, reads and bundles without a token", async () => {
    const put = await call("write", "shop/checkout", checkout);
    expect(put).toMatchObject({ ok: true, result: { key: "shop/checkout", created: true } });
    expect(put.result.etag).toMatch(/^"r\d+"$/);
    await call("write", "shop/banner", "Welcome");
    const got = await call("read", "shop/checkout");
    expect(got.result).toMatchObject({ value: checkout, contentType: "application/json" });
    expect(got.result.etag).toBe(put.result.etag);
    expect((await call("read", "shop/banner")).result.value).toBe("Welcome");
    expect((await call("read", "shop/nothing")).result).toBeNull();
    const bundle = await call("bundle", "shop");
    expect(bundle.result.entries).toEqual({ banner: "Welcome", checkout });
    expect(bundle.result.etag).toBe(`"r${bundle.result.revision}"`);
  });

  it("keeps the API's rules: CAS conflicts, flagd schema, key grammar", async () => {
    const first = await call("write", "shop/count", 1);
    const stale = first.result.etag;
    await call("write", "shop/count", 2, { ifMatch: stale });
    const conflict = await call("write", "shop/count", 3, { ifMatch: stale });
    expect(conflict).toMatchObject({ ok: false });
    expect(conflict.message).toMatch(/^edgecfg 412 precondition-failed: /);
    const bad = await call("write", "shop/bad", { state: "ON", variants: { a: 1 } });
    expect(bad.message).toMatch(/^edgecfg 422 schema-violation: .*"\/state"/);
    expect((await call("read", "no namespace")).message).toMatch(/^edgecfg 400 bad-request/);
    expect((await call("remove", "shop/count")).result).toBe(true);
    expect((await call("remove", "shop/count")).result).toBe(false);
  });

  it("evaluates flags as OFREP does, one revision for all", async () => {
    const de = await call("evaluate", "shop", "checkout", { targetingKey: "u", country: "DE" });
    expect(de.result).toEqual({
      key: "checkout",
      reason: "TARGETING_MATCH",
      variant: "onepage",
      value: "onepage",
    });
    const missing = await call("evaluate", "shop", "nope", {});
    expect(missing.result).toMatchObject({ key: "nope", errorCode: "FLAG_NOT_FOUND" });
    const all = await call("evaluateAll", "shop", { country: "US" });
    expect(all.result.flags.map((f: { key: string }) => f.key)).toEqual(["banner", "checkout"]);
    expect(all.result.etag).toBe((await call("bundle", "shop")).result.etag);
  });

  it("the SDK and the server provider take the binding's fetch as transport, no token", async () => {
    const worker = await mf.getWorker("sdk-caller");
    const res = await worker.fetch("http://sdk/");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.value).toEqual({ ok: true });
    expect(body.etag).toMatch(/^"r\d+"$/);
    expect(body.checkout).toMatchObject({ value: "onepage", reason: "TARGETING_MATCH" });
  });

  it("the documented example Worker answers through the binding", async () => {
    const worker = await mf.getWorker("flags-worker");
    const res = await worker.fetch("http://flags/?user=ann", { cf: { country: "DE" } });
    const body = (await res.json()) as { checkout: { value: string }; flags: number };
    expect(body.checkout).toMatchObject({ value: "onepage", reason: "TARGETING_MATCH" });
    expect(body.flags).toBe((await call("evaluateAll", "shop", {})).result.flags.length);
  });
});
