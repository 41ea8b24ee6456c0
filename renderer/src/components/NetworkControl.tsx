import type { NetworkState, NetworkStatus } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";

const STATUS_TEXT: Record<NetworkStatus, string> = {
  online: "Online",
  offline: "Offline",
  connecting: "Connecting…",
  off: "Network off",
};

export function NetworkControl({ network }: { network: NetworkState }) {
  const dispatch = useDispatch();
  return (
    <div className="network">
      <span role="status" aria-label="Network status" className={`network-status network-${network.status}`}>
        {STATUS_TEXT[network.status]}
      </span>
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
