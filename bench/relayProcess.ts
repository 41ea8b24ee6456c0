// A relay in its own process for the messaging benchmark: a relay is a separate server, so its work
// must not share the measured core's event loop. argv: <sqlite path> [stub]. Started with fork();
// sends {url} once listening and closes on "close" or when the parent goes away.
import { startRelay } from "../server/relay/relay.js";
import { startStubRelay } from "./stubRelay.js";

const relay = process.argv[3] === "stub" ? await startStubRelay() : await startRelay({ port: 0, dbPath: process.argv[2] ?? ":memory:" });
let closing = false;
const close = async (): Promise<void> => {
  if (closing) return;
  closing = true;
  await relay.close();
  process.exit(0);
};
process.on("message", (message) => {
  if (message === "close") void close();
});
process.on("disconnect", () => void close());
process.send?.({ url: relay.url });
