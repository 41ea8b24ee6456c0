import type { NetworkState, NetworkStatus, RelayConnection } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";

const STATUS_TEXT: Record<NetworkStatus, string> = {
  online: "Online",
  offline: "Offline",
  connecting: "Connecting…",
  off: "Network off",
};

const RELAY_TEXT: Record<RelayConnection, string> = {
  connected: "connected",
  connecting: "connecting",
  disconnected: "disconnected",
};

/** `connected`: whether the page reaches the core at all; when it does not, the relays' last status means nothing. */
export function NetworkControl({ network, connected }: { network: NetworkState; connected: boolean }) {
  const dispatch = useDispatch();
  const connectedRelays = network.relays.filter((relay) => relay.status === "connected").length;
  const details = network.relays.map((relay) => `${relay.url}: ${RELAY_TEXT[relay.status]}`).join("\n");
  return (
    <div className="network">
      <span role="status" aria-label="Network status" className={`status-dot network-status network-${connected ? network.status : "offline"}`} title={connected ? details || undefined : undefined}>
        {connected ? STATUS_TEXT[network.status] : "Disconnected"}
      </span>
      {connected && network.enabled && network.relays.length > 0 && (
        <span className="relay-count" title={details}>
          {connectedRelays}/{network.relays.length} relays
        </span>
      )}
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={network.enabled}
          disabled={!connected}
          onChange={(event) => void dispatch({ type: "SetNetworkEnabled", enabled: event.target.checked })}
        />
        Network
      </label>
    </div>
  );
}
