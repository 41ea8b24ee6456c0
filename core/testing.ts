// Helpers for tests of the core: a core on a fresh temp data dir, and waiting for a pushed state.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppState, StateSnapshot } from "../shared/state.js";
import { AppCore, type AppCoreOptions } from "./app/appCore.js";
import type { CoreTimings } from "./base/config.js";
import { waitForState as waitUntil } from "./base/waitForState.js";
import { FileSecretStore } from "./base/secretStore.js";

export async function tempDir(prefix = "burrow-test-"): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Short timeouts for tests against a relay on 127.0.0.1. */
export const FAST_TIMINGS: Partial<CoreTimings> = {
  keyPackageFetchMs: 2_000,
  relayQueryMs: 1_000,
  connectTimeoutMs: 1_000,
  publishTimeoutMs: 2_000,
  reconnectInitialMs: 50,
  reconnectMaxMs: 500,
  keyPackageRetryMs: 500,
  agentRequestTimeoutMs: 5_000,
  agentPollInitialMs: 100,
  agentPollMaxMs: 300,
  agentReadyTimeoutMs: 30_000,
  agentStallMs: 20_000,
};

export async function coreIn(
  dataDir: string,
  pushIntervalMs = 5,
  relays: string[] = [],
  timings: Partial<CoreTimings> = FAST_TIMINGS,
  agentApiUrl?: string,
  extra: Pick<AppCoreOptions, "clock" | "log"> = {},
): Promise<AppCore> {
  return AppCore.create({
    secretStore: new FileSecretStore(dataDir),
    dataDir,
    pushIntervalMs,
    defaultRelays: relays,
    timings: { ...FAST_TIMINGS, ...timings },
    ...(agentApiUrl ? { agentApiUrl } : {}),
    ...extra,
  });
}

/** A clock that runs with the system's, shifted by `offsetMs` (changeable while it runs). */
export function skewedClock(offsetMs = 0): { offsetMs: number; now(): number } {
  return {
    offsetMs,
    now() {
      return Date.now() + this.offsetMs;
    },
  };
}

/** Resolves with the first pushed snapshot whose state satisfies `predicate`; on timeout the error shows the last state. */
export function waitForState(core: AppCore, predicate: (state: AppState) => boolean, timeoutMs = 5000): Promise<StateSnapshot> {
  return waitUntil(core, predicate, timeoutMs, () => {
    const last = JSON.stringify(core.snapshot().state);
    return new Error(`state not reached within ${timeoutMs} ms; last: ${last.length > 1500 ? `${last.slice(0, 1500)}…` : last}`);
  });
}

/** Creates an account on `core` (unless it has one) and waits until its KeyPackage is out. */
export async function withAccount(core: AppCore, timeoutMs = 15_000): Promise<AppCore> {
  if (core.snapshot().state.auth.status !== "logged_in") await core.dispatch({ type: "CreateAccount" });
  await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published, timeoutMs);
  return core;
}
