// A worker of the crypto pool: verifies and signs Nostr events for the thread that owns the pool.
import { parentPort } from "node:worker_threads";
import { initNostrCrypto, signEvent, verifySignature } from "./nostrCrypto.js";
import type { CryptoJob, CryptoJobResult } from "./cryptoPool.js";

await initNostrCrypto();

function run(job: CryptoJob): CryptoJobResult {
  if (job.op === "verify") return { id: job.id, op: "verify", results: job.events.map((event) => verifySignature(event)) };
  return { id: job.id, op: "sign", results: job.items.map((item) => signEvent(item.template, item.secretKey)) };
}

parentPort?.on("message", (job: CryptoJob) => {
  try {
    parentPort?.postMessage(run(job));
  } catch (error) {
    parentPort?.postMessage({ id: job.id, op: "error", message: error instanceof Error ? error.message : String(error) } satisfies CryptoJobResult);
  }
});
