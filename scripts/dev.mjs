// `npm run dev`: the browser host on a fixed port plus Vite's dev server with HMR in front of it.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { bin, root, run } from "./run.mjs";

const hostPort = process.env.BURROW_HOST_PORT ?? "4010";
const vitePort = process.env.BURROW_VITE_PORT ?? "5173";
const token = randomBytes(24).toString("base64url");
const viteOrigin = `http://127.0.0.1:${vitePort}`;

const code = await run(bin("tsc"), ["-p", "tsconfig.build.json"]);
if (code !== 0) process.exit(code);

const children = [
  spawn(process.execPath, [join(root, "dist", "electron", "web.js"), "--port", hostPort, "--no-open", "--token", token, "--dev-origin", viteOrigin, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" }),
  spawn(bin("vite"), ["--host", "127.0.0.1", "--port", vitePort, "--strictPort"], {
    cwd: root,
    stdio: ["inherit", "ignore", "inherit"],
    env: { ...process.env, BURROW_HOST_URL: `http://127.0.0.1:${hostPort}` },
  }),
];
console.log(`\nBurrow dev (Vite HMR): ${viteOrigin}/#token=${token}\n`);
const stop = () => children.forEach((child) => child.kill("SIGTERM"));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
for (const child of children) child.on("exit", (exitCode) => { stop(); process.exitCode = exitCode ?? 0; });
