// Builds renderer/ into dist/renderer/, loaded by Electron over app://burrow and served by the browser host.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { CONTENT_SECURITY_POLICY_META } from "./shared/csp.js";
import { WS_PATH } from "./shared/ipc.js";

/** Build only: the dev server needs React Refresh's inline preamble. */
function contentSecurityPolicy(): Plugin {
  return {
    name: "burrow-csp",
    apply: "build",
    transformIndexHtml: () => [
      { tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: CONTENT_SECURITY_POLICY_META }, injectTo: "head-prepend" },
    ],
  };
}

const browserHost = process.env["BURROW_HOST_URL"];

export default defineConfig({
  root: fileURLToPath(new URL("./renderer", import.meta.url)),
  base: "./",
  plugins: [react(), contentSecurityPolicy()],
  build: {
    outDir: "../dist/renderer",
    emptyOutDir: true,
  },
  server: {
    port: 5173,
    strictPort: false,
    proxy: browserHost ? { [WS_PATH]: { target: browserHost, ws: true } } : {},
  },
});
