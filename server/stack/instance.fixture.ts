// A stand-in for one `npm start` in the stack's own tests: it uses the local stack the way
// scripts/start.mjs does (useLocalStack, then release on SIGINT/SIGTERM) without a core or a window,
// printing one JSON line once it uses the stack. `--home` is the stack home; kill -9 is a crash.
import { parseArgs } from "node:util";
import { useLocalStack } from "./localStack.js";

const { values } = parseArgs({ options: { home: { type: "string" }, label: { type: "string", default: "fixture" } } });
if (!values.home) throw new Error("--home is required");
try {
  const stack = await useLocalStack({ home: values.home, label: values.label });
  process.stdout.write(`${JSON.stringify({ event: "using", started: stack.started, notices: stack.notices, record: stack.record })}\n`);
  const stop = (): void => {
    void stack.release().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  setInterval(() => undefined, 1 << 30);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ event: "failed", message: error instanceof Error ? error.message : String(error) })}\n`);
  process.exit(1);
}
