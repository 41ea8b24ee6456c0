// Bundles electron/preload.ts into one CommonJS file, dist/electron/preload.cjs: a sandboxed preload
// can require "electron" and nothing local, so the shared contract must be inlined.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  publicDir: false,
  logLevel: "warn",
  build: {
    lib: {
      entry: fileURLToPath(new URL("./electron/preload.ts", import.meta.url)),
      formats: ["cjs"],
      fileName: () => "preload.cjs",
    },
    outDir: fileURLToPath(new URL("./dist/electron", import.meta.url)),
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    target: "chrome140",
    rolldownOptions: {
      external: ["electron"],
    },
  },
});
