// Starts the Worker on Miniflare directly: bundle it the way `wrangler deploy` does, then hand
// Miniflare the bindings wrangler.toml declares. Used by `npm start`, the end-to-end tests and the
// benchmark, so all three run exactly what a deployment runs.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

/** The documented development admin token; only local runs ever use it. */
export const devAdminToken = "dev-admin-token";

export interface LocalServerOptions {
  port: number;
  host?: string;
  /** Admin token; the development default when unset. */
  adminToken?: string | undefined;
  /** Where Durable Object state lives; `.wrangler/state` (as `wrangler dev`) when unset. */
  stateDir?: string | undefined;
  /** Extra `[vars]`, e.g. `{ BACKEND: "solo" }` for the benchmark floor. */
  vars?: Record<string, string>;
  projectDir?: string;
  /**
   * False: leave out the EDGECFG_DEV binding, so the Worker runs exactly as deployed (no fault
   * injection); tests prove with it that a deployment cannot reach /v1/dev/faults. Default true.
   */
  devFaults?: boolean;
  /** Serve the V8 inspector (Chrome DevTools protocol) on this port, for CPU profiles. */
  inspectorPort?: number;
}

export interface LocalServer {
  url: URL;
  stateDir: string;
  adminToken: string;
  adminTokenIsDefault: boolean;
  miniflare: Miniflare;
  dispose(): Promise<void>;
}

export async function startLocal(options: LocalServerOptions): Promise<LocalServer> {
  const projectDir = resolve(options.projectDir ?? process.cwd());
  const configPath = join(projectDir, "wrangler.toml");
  const bundle = bundleWorker(projectDir, configPath);
  const stateDir = resolve(projectDir, options.stateDir ?? ".wrangler/state");
  mkdirSync(stateDir, { recursive: true });
  const adminToken = options.adminToken ?? devAdminToken;
  const host = options.host ?? "127.0.0.1";

  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  const worker = {
    ...workerOptions,
    name: "edgecfg",
    modulesRoot: bundle.dir,
    modules: [{ type: "ESModule", path: bundle.main }],
    bindings: {
      ...(workerOptions.bindings as Record<string, unknown> | undefined),
      ...options.vars,
      ADMIN_TOKEN: adminToken,
    },
    // Local development only: a service binding to this Node process, which no deployment can
    // have, is what turns on /v1/dev/faults (src/api/routes/dev-faults.ts).
    serviceBindings: {
      ...(workerOptions.serviceBindings as Record<string, unknown> | undefined),
      ...(options.devFaults === false
        ? {}
        : { EDGECFG_DEV: () => new Response("edgecfg local server") }),
    },
    // Clients reach the Worker on its own workerd socket, as the edge hands requests to a Worker.
    // Miniflare's entry worker (its default front door, which adds request.cf and pretty error
    // pages) cost ~30 % of the CPU of a write here, on the one core local workerd runs JS on.
    unsafeDirectSockets: [{ host, port: options.port }],
  };
  // wrangler still describes workers in Miniflare 4's shape; Miniflare converts it.
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      workers: [worker],
      resourcePersistencePath: join(stateDir, "v3"),
      // Miniflare's own socket (its API: DO stubs for tests and the bench) on any free port.
      host: "127.0.0.1",
      port: 0,
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  await miniflare.ready;
  const url = await miniflare.unsafeGetDirectURL("edgecfg");
  return {
    url,
    stateDir,
    adminToken,
    adminTokenIsDefault: options.adminToken === undefined,
    miniflare,
    dispose: async () => {
      await miniflare.dispose();
      rmSync(bundle.dir, { recursive: true, force: true }); // one temp bundle per start otherwise piles up
    },
  };
}

/** Bundles with wrangler itself (same esbuild settings, nodejs_compat) into a temp folder. */
export function bundleWorker(
  projectDir: string,
  configPath: string,
): { dir: string; main: string } {
  const dir = mkdtempSync(join(tmpdir(), "edgecfg-bundle-"));
  const wrangler = join(projectDir, "node_modules", ".bin", "wrangler");
  execFileSync(wrangler, ["deploy", "--dry-run", "--config", configPath, "--outdir", dir], {
    cwd: projectDir,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
  });
  const main = readdirSync(dir).find((f) => f.endsWith(".js"));
  if (main === undefined)
    throw new Error(
      `wrangler produced no bundle in ${dir}; run \`npx wrangler deploy --dry-run\` to see why`,
    );
  return { dir, main: join(dir, main) };
}

/**
 * One line saying which wrangler.toml [vars] entries differ from the stored topology (GET
 * /v1/cluster's pendingConfig), or null when none do or the cluster cannot be asked.
 */
export async function pendingConfigLine(url: URL, adminToken: string): Promise<string | null> {
  try {
    const res = await fetch(new URL("/v1/cluster", url), {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    if (!res.ok) return null;
    const { pendingConfig } = (await res.json()) as {
      pendingConfig?: { variable: string; stored: unknown; configured: unknown }[] | null;
    };
    if (!pendingConfig || pendingConfig.length === 0) return null;
    const changes = pendingConfig.map(
      (p) => `${p.variable} ${String(p.stored)} -> ${String(p.configured)}`,
    );
    return (
      `wrangler.toml differs from the stored topology: ${changes.join(", ")}; ` +
      "not applied (the store keeps serving what it has); GET /v1/cluster says what each needs"
    );
  } catch {
    return null;
  }
}
