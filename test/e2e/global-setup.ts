// Starts the store the way `npm start` does (Miniflare, the real bundle) in a fresh state folder,
// once for the whole e2e project, and hands its URL to the tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocal } from "../../scripts/local-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    e2eUrl: string;
    e2eAdminToken: string;
  }
}

export default async function setup(project: TestProject) {
  const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-e2e-"));
  const server = await startLocal({ port: 0, stateDir, adminToken: "e2e-admin-token" });
  project.provide("e2eUrl", server.url.toString().replace(/\/$/, ""));
  project.provide("e2eAdminToken", server.adminToken);
  process.env.EDGECFG_E2E_URL = server.url.toString().replace(/\/$/, "");
  return async () => {
    await server.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  };
}
