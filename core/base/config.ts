// Tunables of the core. Every timeout and interval is here so tests can shorten them.

/** Where packaged builds look for people when the user has not chosen relays. */
export const PUBLIC_RELAYS = ["wss://relay.damus.io", "wss://nos.lol", "wss://relay.primal.net"];

export const CLIENT_NAME = "Burrow";

/** The public agent API packaged builds use when neither settings nor the environment name one. */
export const PUBLIC_AGENT_API_URL = "https://agents.burrow.chat";

/** The agent API from the environment: BURROW_AGENT_API_URL, else Pika's PIKA_AGENT_API_URL. */
export function agentApiUrlFromEnv(env: NodeJS.ProcessEnv): string | null {
  const value = env["BURROW_AGENT_API_URL"] || env["PIKA_AGENT_API_URL"];
  return value ? value.trim().replace(/\/+$/, "") : null;
}

export interface CoreTimings {
  /** Waiting for a peer's key package on the relays. */
  keyPackageFetchMs: number;
  /** One-shot relay queries (own key packages, relay lists). */
  relayQueryMs: number;
  connectTimeoutMs: number;
  publishTimeoutMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** Subscriptions resume from the last seen created_at minus this margin (clock skew, late relays). */
  resumeMarginSec: number;
  /**
   * How far ahead of our clock a sender's created_at may move a cursor or a chat's place in the list.
   * Later times are still processed, but count as now + this skew.
   */
  futureSkewSec: number;
  /** Gift wraps are backdated by up to two days (NIP-59), so their subscription reaches back that far more. */
  giftWrapBackdateSec: number;
  /** A failed KeyPackage publish is tried again after this long. */
  keyPackageRetryMs: number;
  /** Messages per page of the open chat. */
  messagePageSize: number;
  /** One agent API request. */
  agentRequestTimeoutMs: number;
  /** Following `me`: first delay, then ×1.5 up to the max. */
  agentPollInitialMs: number;
  agentPollMaxMs: number;
  /** The whole wait for a ready agent. */
  agentReadyTimeoutMs: number;
  /** An agent `creating` this long without becoming ready gets its one recover. */
  agentStallMs: number;
  /** Kind 445 events held per group for a commit that has not arrived yet; more are refused and fetched again later. */
  maxHeldEventsPerGroup: number;
  /** An event that still opens under no key this many commits after it was first held is dropped as undecryptable. */
  heldCommitsBeforeDrop: number;
  /** Dropped, refused and undecryptable input is logged as counts, at most once per this long. */
  inputReportEveryMs: number;
  /** Info toasts go away by themselves after this long; error toasts stay until dismissed. */
  infoToastMs: number;
  /** Fetching one profile picture, redirects included. */
  pictureFetchMs: number;
  /** Tests only (no setting reaches it): pictures may come from http://127.0.0.1, for a local test server. */
  pictureAllowLoopback: boolean;
}

export const DEFAULT_TIMINGS: CoreTimings = {
  keyPackageFetchMs: 8_000,
  relayQueryMs: 4_000,
  connectTimeoutMs: 5_000,
  publishTimeoutMs: 8_000,
  reconnectInitialMs: 500,
  reconnectMaxMs: 30_000,
  resumeMarginSec: 600,
  futureSkewSec: 120,
  giftWrapBackdateSec: 2 * 24 * 60 * 60,
  keyPackageRetryMs: 30_000,
  messagePageSize: 50,
  agentRequestTimeoutMs: 10_000,
  agentPollInitialMs: 250,
  agentPollMaxMs: 2_000,
  agentReadyTimeoutMs: 120_000,
  agentStallMs: 45_000,
  maxHeldEventsPerGroup: 1_000,
  heldCommitsBeforeDrop: 3,
  inputReportEveryMs: 10_000,
  infoToastMs: 6_000,
  pictureFetchMs: 10_000,
  pictureAllowLoopback: false,
};

/** Relay URLs from a comma- or space-separated environment value. */
export function relaysFromEnv(value: string | undefined): string[] | null {
  const urls = (value ?? "").split(/[\s,]+/).filter(Boolean);
  return urls.length > 0 ? urls : null;
}
