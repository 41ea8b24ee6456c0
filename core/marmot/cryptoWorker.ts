// A worker of the crypto pool: verifies and signs Nostr events for the thread that owns the pool.
import { parentPort } from "node:worker_threads";
import { initNostrCrypto } from "./nostrCrypto.js";
import { runCryptoJob, type CryptoJob, type CryptoJobResult } from "./cryptoPool.js";

await initNostrCrypto();

parentPort?.on("message", (job: CryptoJob) => {
  try {
    parentPort?.postMessage(runCryptoJob(job));
  } catch (error) {
    parentPort?.postMessage({ id: job.id, op: "error", message: error instanceof Error ? error.message : String(error) } satisfies CryptoJobResult);
  }
});
