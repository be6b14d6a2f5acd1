// edgecfg's own web provider (edgecfg/openfeature/web) in a real browser (Debian's chromium,
// headless, through playwright-core) against the store served as `npm start` serves it: READY
// once initialize returns, the store's evaluation for the page's context, a change pushed over
// the event stream, and any context change re-evaluated (not only a new targetingKey).
import type { Browser, Page } from "playwright-core";
import { openPage } from "./browser/launch.ts";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const url = inject("e2eUrl");
const token = inject("e2eAdminToken");
const ns = `web-own-${Date.now().toString(36)}`;
let browser: Browser;
let page: Page;

async function put(name: string, value: unknown) {
  const res = await fetch(`${url}/v1/kv/${ns}/${name}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(value),
  });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  await put("checkout", {
    state: "ENABLED",
    defaultVariant: "classic",
    variants: { classic: "classic", onepage: "onepage" },
    targeting: { if: [{ "==": [{ var: "plan" }, "pro"] }, "onepage", null] },
  });
  await put("limit", 20);
  ({ browser, page } = await openPage(new URL("./browser/edgecfg-web-page.ts", import.meta.url)));
});

afterAll(async () => {
  await browser?.close();
});

type Flags = {
  start(url: string, namespace: string, token: string, context: object): Promise<any>;
  nextChange(ms: number): Promise<any>;
  setContext(context: object): Promise<any>;
};
// page.evaluate runs its function in the page: it may use only the page's globals.
declare const flags: Flags;

describe("EdgecfgWebProvider in headless chromium", () => {
  it("is READY with the store's evaluation for the page's context", async () => {
    const first = await page.evaluate(
      ([u, n, t]) => flags.start(u!, n!, t!, { targetingKey: "ann", plan: "pro" }),
      [url, ns, token],
    );
    expect(first.status).toBe("READY");
    expect(first.checkout).toMatchObject({ value: "onepage", reason: "TARGETING_MATCH" });
    expect(first.limit).toMatchObject({ value: 20, reason: "STATIC" });
    expect(first.missing).toMatchObject({ value: true, errorCode: "FLAG_NOT_FOUND" });
  });

  it("is pushed a change over the event stream", async () => {
    await new Promise((r) => setTimeout(r, 300)); // the EventSource connects
    await put("limit", 30);
    const next = await page.evaluate(() => flags.nextChange(10_000));
    expect(next.flagsChanged).toEqual(["limit"]);
    expect(next.limit).toMatchObject({ value: 30 });
  });

  it("re-evaluates when any attribute of the context changes", async () => {
    const free = await page.evaluate(() => flags.setContext({ targetingKey: "ann", plan: "free" }));
    expect(free.checkout).toMatchObject({ value: "classic", reason: "DEFAULT" });
    expect(free.events).not.toContain("PROVIDER_ERROR");
  });
});
