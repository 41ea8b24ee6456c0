// Child process of the kill-mid-burst test: opens the account stored in <dataDir>, types <count> messages
// "<prefix> <i>" into <chatId> as fast as dispatch answers, then waits to be SIGKILLed.
// Usage: node burstSender.fixture.js <dataDir> <relayUrl> <chatId> <count> <prefix>
import { coreIn, waitForState } from "../testing.js";

const [dataDir, relayUrl, chatId, count, prefix] = process.argv.slice(2);
if (dataDir === undefined || relayUrl === undefined || chatId === undefined || count === undefined || prefix === undefined) {
  throw new Error("usage: burstSender.fixture.js <dataDir> <relayUrl> <chatId> <count> <prefix>");
}
const core = await coreIn(dataDir, 5, [relayUrl], { connectTimeoutMs: 5_000 });
await waitForState(core, (s) => s.auth.status === "logged_in" && s.network.status === "online", 15_000);
for (let i = 0; i < Number(count); i++) await core.dispatch({ type: "SendMessage", chat_id: chatId, text: `${prefix} ${i}` });
setInterval(() => undefined, 1_000);
