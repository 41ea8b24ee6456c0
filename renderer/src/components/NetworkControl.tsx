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

export function NetworkControl({ network }: { network: NetworkState }) {
  const dispatch = useDispatch();
  const connected = network.relays.filter((relay) => relay.status === "connected").length;
  const details = network.relays.map((relay) => `${relay.url}: ${RELAY_TEXT[relay.status]}`).join("\n");
  return (
    <div className="network">
      <span role="status" aria-label="Network status" className={`network-status network-${network.status}`} title={details || undefined}>
        {STATUS_TEXT[network.status]}
      </span>
      {network.enabled && network.relays.length > 0 && (
        <span className="relay-count" title={details}>
          {connected}/{network.relays.length} relays
        </span>
      )}
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={network.enabled}
          onChange={(event) => void dispatch({ type: "SetNetworkEnabled", enabled: event.target.checked })}
        />
        Network
      </label>
    </div>
  );
}
