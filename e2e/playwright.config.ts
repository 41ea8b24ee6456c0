import { existsSync } from "node:fs";
import { chromium, defineConfig } from "@playwright/test";

/** Playwright's own Chromium where installed, else the system one (override with BURROW_CHROMIUM). */
function chromiumPath(): string | undefined {
  const override = process.env["BURROW_CHROMIUM"];
  if (override) return override;
  const bundled = chromium.executablePath();
  if (bundled && existsSync(bundled)) return undefined;
  return "/usr/bin/chromium";
}

export default defineConfig({
  testDir: ".",
  testMatch: /.*\.spec\.ts$/,
  fullyParallel: true,
  workers: 2,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: process.env["CI"] ? [["list"]] : [["list"]],
  outputDir: "../test-results",
  use: {
    headless: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: chromiumPath(),
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
});
