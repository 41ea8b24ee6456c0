// `npm run stack -- status|stop [--home DIR] [--json]`: the local stack every instance on this machine shares.
import { parseArgs } from "node:util";
import { defaultStackHome } from "../../core/index.js";
import { stackStatus, stopStack } from "./localStack.js";

const USAGE = `usage: npm run stack -- status|stop [--home DIR] [--json]

  status   is the local stack running; its URLs, pids, and the instances using it
  stop     stop it now, even while instances use it
  --home   the stack home (default: BURROW_STACK_HOME, else ${defaultStackHome({})})`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { home: { type: "string" }, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? "status";
  const home = values.home ?? defaultStackHome();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (command === "status") {
    const status = stackStatus(home);
    if (values.json) {
      console.log(JSON.stringify(status, null, 2));
      return;
    }
    if (!status.running) {
      console.log(`The local stack is not running (home ${home}).`);
      if (status.record?.ports.relay) console.log(`Its relay comes back on ws://127.0.0.1:${status.record.ports.relay}.`);
      return;
    }
    const record = status.record!;
    console.log(`The local stack is running (home ${home}, supervisor pid ${record.pids?.stack}).`);
    console.log(`  relay      ${record.relay_url} (pid ${record.pids?.relay})`);
    console.log(`  agent API  ${record.agent_api_url} (pid ${record.pids?.agent_api})`);
    console.log(`  spawner    ${record.spawner_url} (pid ${record.pids?.spawner})`);
    console.log(`  used by    ${status.users.length === 0 ? "no instance (stopping)" : status.users.map((user) => `${user.label} (pid ${user.pids.join(", ")})`).join("; ")}`);
    return;
  }
  if (command === "stop") {
    const result = await stopStack(home);
    if (values.json) console.log(JSON.stringify(result));
    else if (!result.stopped) console.log(`The local stack was not running (home ${home}).`);
    else console.log(`Stopped the local stack${result.users > 0 ? ` (${result.users} instance(s) were still using it)` : ""}.`);
    return;
  }
  process.stderr.write(`unknown command: ${command}\n${USAGE}\n`);
  process.exitCode = 2;
}

main().catch((error: unknown) => {
  process.stderr.write(`burrow stack: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
