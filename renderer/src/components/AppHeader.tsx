import type { NetworkState } from "../../../shared/state";
import { CopyButton } from "./CopyButton";
import { NetworkControl } from "./NetworkControl";

interface AppHeaderProps {
  npub: string;
  network: NetworkState;
  connected: boolean;
  onOpenSettings: () => void;
}

export function AppHeader({ npub, network, connected, onOpenSettings }: AppHeaderProps) {
  return (
    <header className="app-header">
      <h1 className="brand">Burrow</h1>
      <div className="identity">
        <span role="textbox" aria-readonly="true" aria-label="Your npub" tabIndex={0} className="npub mono truncate">
          {npub}
        </span>
        <CopyButton label="Copy npub" text={npub} />
      </div>
      <NetworkControl network={network} connected={connected} />
      <button type="button" onClick={onOpenSettings}>
        Settings
      </button>
    </header>
  );
}
