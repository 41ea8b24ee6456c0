// The memory bench's measured process (run with --expose-gc): a real AppCore opened on a seeded data
// dir, connected to the relay; once the chat list is loaded, the account's KeyPackage is out and one
// chat is open, after GC, prints {rss, heapUsed} in bytes as one JSON line. argv: <data dir> <relay url> <chats>.
import { AppCore, FileSecretStore } from "../core/index.js";
import { waitForState } from "../core/testing.js";

const [dataDir, relayUrl, chats] = process.argv.slice(2);
if (!dataDir || !relayUrl || !chats) throw new Error("usage: memoryProbe.js <data dir> <relay url> <chats>");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("memoryProbe.js needs node --expose-gc");

const core = await AppCore.create({ secretStore: new FileSecretStore(dataDir), dataDir, defaultRelays: [relayUrl] });
const loaded = await waitForState(core, (s) => s.chats.length === Number(chats) && s.key_package.published && s.network.status === "online", 120_000);
const chat = loaded.state.chats[0]!;
await core.dispatch({ type: "OpenChat", chat_id: chat.id });
await waitForState(core, (s) => s.open_chat?.chat_id === chat.id && s.open_chat.messages.length > 0, 30_000);
// Whatever the open and the subscriptions started settles before the figure is taken.
await new Promise((resolve) => setTimeout(resolve, 1_000));
for (let i = 0; i < 3; i++) gc();
const { rss, heapUsed } = process.memoryUsage();
console.log(JSON.stringify({ rss, heapUsed }));
await core.close();
