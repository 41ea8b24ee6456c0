// Relays and the network switch: the account's relay list (saved, or the host's defaults), and what
// happens when relays come (back) online.
import { normalizeRelayUrl, normalizeRelayUrls, sameRelayUrl } from "../../../shared/relayUrl.js";
import type { AccountContext } from "../../state/context.js";

const RELAYS_KEY = "relays";
/** The default relays this account was last started with, so a saved list can follow when they change. */
const DEFAULT_RELAYS_KEY = "default_relays";

function isLoopbackRelay(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  } catch {
    return false;
  }
}

export interface NetworkPorts {
  /** Our KeyPackage on every relay (key packages). */
  checkKeyPackage(): void;
  /** The relays changed: a KeyPackage publish to the old ones no longer counts (key packages). */
  relaysChanged(): void;
  /** Resend what failed to go out (messages). */
  retryFailed(): void;
  /** Ask the agent API about access again (agent); `onlyIfUnknown`: only when no answer is known. */
  probeAgent(onlyIfUnknown: boolean): void;
}

export class Network {
  constructor(
    private readonly ctx: AccountContext,
    private readonly ports: NetworkPorts,
  ) {}

  /**
   * The saved relay list, else the defaults. A default this account was given before and no longer
   * is (the local stack's relay on a new port) is replaced in the saved list by today's defaults;
   * relays the user added stay, and a default the user removed is not added back.
   */
  relaysAtStart(defaults: string[]): string[] {
    const saved = this.ctx.store.getMeta<string[]>(RELAYS_KEY);
    const current = normalizeRelayUrls(defaults);
    // Accounts from before this was remembered: a loopback relay that is not today's is the old local stack's.
    const before = this.ctx.store.getMeta<string[]>(DEFAULT_RELAYS_KEY) ?? (current.some(isLoopbackRelay) ? (saved ?? []).filter(isLoopbackRelay) : []);
    this.ctx.store.setMeta(DEFAULT_RELAYS_KEY, current);
    if (!saved) return defaults;
    const gone = new Set(normalizeRelayUrls(before).filter((url) => !current.includes(url)));
    const kept = saved.filter((url) => !gone.has(normalizeRelayUrl(url) ?? url));
    if (kept.length === saved.length) return saved;
    const replaced = [...kept, ...defaults.filter((url) => !kept.some((k) => sameRelayUrl(k, url)))];
    this.ctx.store.setMeta(RELAYS_KEY, replaced);
    this.ctx.log({ event: "default_relays_replaced", removed: saved.length - kept.length, relays: replaced.length });
    return replaced;
  }

  setRelays(relays: string[]): void {
    this.ctx.store.setMeta(RELAYS_KEY, relays);
    this.ctx.pool.setRelays(relays);
    this.ports.relaysChanged();
    this.ctx.update((s) => {
      s.settings.relays = relays;
    });
    this.relayConnected();
  }

  setEnabled(enabled: boolean): void {
    this.ctx.pool.setEnabled(enabled);
    if (!enabled) return;
    this.relayConnected();
    this.ports.probeAgent(false);
  }

  /** The network came back: relays are online again, and agent access may be knowable now. */
  back(): void {
    this.relayConnected();
    this.ports.probeAgent(true);
  }

  /** A relay came (back) online: make sure our KeyPackage is there, and resend what failed to go out. */
  relayConnected(): void {
    if (!this.ctx.live()) return;
    this.ports.checkKeyPackage();
    this.ports.retryFailed();
  }
}
