// `npm run dev`: the browser host on a fixed port plus Vite's dev server with HMR in front of it,
// on the local stack every instance shares (started when none runs, like `npm start`).
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { bin, root, run } from "./run.mjs";

const hostPort = process.env.BURROW_HOST_PORT ?? "4010";
const vitePort = process.env.BURROW_VITE_PORT ?? "5173";
const token = randomBytes(24).toString("base64url");
const viteOrigin = `http://127.0.0.1:${vitePort}`;

const code = await run(bin("tsc"), ["-p", "tsconfig.build.json"]);
if (code !== 0) process.exit(code);
const { useLocalStack } = await import(pathToFileURL(join(root, "scripts", "stack.mjs")).href);
let stack;
try {
  stack = await useLocalStack("npm run dev");
} catch (error) {
  console.error(`The local stack could not start: ${error.message}`);
  process.exit(1);
}
for (const notice of stack.notices) console.log(notice);
console.log(`Local stack: relay ${stack.record.relay_url}, agent API ${stack.record.agent_api_url} (${stack.started ? "started" : "already running"}; data in ${stack.record.home})`);

const children = [
  spawn(
    process.execPath,
    [join(root, "dist", "hosts", "web", "main.js"), "--port", hostPort, "--no-open", "--token", token, "--dev-origin", viteOrigin, "--relay", stack.record.relay_url, "--agent-api", stack.record.agent_api_url, ...process.argv.slice(2)],
    { cwd: root, stdio: "inherit" },
  ),
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
for (const child of children) stack.addPid(child.pid);
let running = children.length;
for (const child of children) {
  child.on("exit", (exitCode) => {
    stop();
    process.exitCode ||= exitCode ?? 0;
    running -= 1;
    if (running === 0) void stack.release();
  });
}
