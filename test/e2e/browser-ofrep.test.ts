// A page in a real browser (Debian's chromium, headless, through playwright-core) evaluates
// flags from the store served as `npm start` serves it, through the official OFREP web provider:
// bulk evaluation with the page's context, CORS preflights, If-None-Match polling (304) and a
// change picked up as PROVIDER_CONFIGURATION_CHANGED.
import type { Browser, Page } from "playwright-core";
import { openPage } from "./browser/launch.ts";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const url = inject("e2eUrl");
const token = inject("e2eAdminToken");
const ns = `browser-${Date.now().toString(36)}`;
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

const checkout = (dflt: string) => ({
  state: "ENABLED",
  defaultVariant: dflt,
  variants: { classic: "classic", onepage: "onepage" },
  targeting: { if: [{ "==": [{ var: "targetingKey" }, "ann"] }, "onepage", null] },
});

beforeAll(async () => {
  await put("checkout", checkout("classic"));
  await put("limit", 20);
  ({ browser, page } = await openPage(new URL("./browser/ofrep-web-page.ts", import.meta.url)));
});

afterAll(async () => {
  await browser?.close();
});

type Flags = {
  start(domain: string, baseUrl: string, token: string, context: object): Promise<any>;
  nextChange(domain: string, ms: number): Promise<any>;
  setContext(context: Record<string, string>): Promise<any>;
};
// page.evaluate runs its function in the page: it may use only the page's globals.
declare const flags: Flags;

describe("@openfeature/ofrep-web-provider in headless chromium", () => {
  it("evaluates every flag once for the page's context", async () => {
    const base = `${url}/v1/ns/${ns}`;
    const first = await page.evaluate(
      ([b, t]) => flags.start("polling", b!, t!, { targetingKey: "ann" }),
      [base, token],
    );
    expect(first.status).toBe("READY");
    expect(first.checkout).toMatchObject({ value: "onepage", reason: "TARGETING_MATCH" });
    expect(first.limit).toMatchObject({ value: 20, reason: "STATIC" });
    expect(first.limit.variant).toMatch(/^"r\d+"$/);
    expect(first.missing).toMatchObject({ value: true, errorCode: "FLAG_NOT_FOUND" });
  });

  it("picks up a change by polling as CONFIGURATION_CHANGED", async () => {
    await put("limit", 30);
    const next = await page.evaluate(() => flags.nextChange("polling", 10_000));
    expect(next.flagsChanged).toEqual(["limit"]);
    expect(next.limit).toMatchObject({ value: 30, reason: "STATIC" });
  });

  it("follows the answer's event stream (SSE) to a change", async () => {
    const base = `${url}/v1/ns/${ns}`;
    const sse = await page.evaluate(
      ([b, t]) => flags.start("sse", b!, t!, { targetingKey: "ann" }),
      [base, token],
    );
    expect(sse.limit).toMatchObject({ value: 30 });
    await new Promise((r) => setTimeout(r, 300)); // the EventSource connects
    const started = performance.now();
    await put("limit", 40);
    const next = await page.evaluate(() => flags.nextChange("sse", 10_000));
    const ms = performance.now() - started;
    console.log(`flag change -> browser CONFIGURATION_CHANGED over SSE in ${ms.toFixed(0)} ms`);
    expect(next.flagsChanged).toEqual(["limit"]);
    expect(next.limit).toMatchObject({ value: 40 });
  });

  it("re-evaluates for a new context", async () => {
    const other = await page.evaluate(() => flags.setContext({ targetingKey: "bob" }));
    expect(other.checkout).toMatchObject({ value: "classic", reason: "DEFAULT" });
  });
});
