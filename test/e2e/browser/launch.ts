// Headless Debian chromium (through playwright-core) with one bundled page script loaded: what
// the browser tests share. The flags keep chromium off this machine's closed network.
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";

export async function openPage(entry: URL): Promise<{ browser: Browser; page: Page }> {
  const bundled = await build({
    entryPoints: [entry.pathname],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
  });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const page = await browser.newPage();
  await page.setContent("<!doctype html><title>flags</title>");
  await page.addScriptTag({ content: bundled.outputFiles[0]!.text });
  return { browser, page };
}
