import { useId } from "react";
import type { NetworkState, SettingsState } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";
import { KeyExport } from "./KeyExport";
import { RelaySettings } from "./RelaySettings";

interface SettingsPageProps {
  settings: SettingsState;
  network: NetworkState;
  onBack: () => void;
}

export function SettingsPage({ settings, network, onBack }: SettingsPageProps) {
  const dispatch = useDispatch();
  const accountHeadingId = useId();
  return (
    <main className="settings">
      <header className="page-header">
        <button type="button" onClick={onBack}>
          Back
        </button>
        <h1>Settings</h1>
      </header>
      <RelaySettings relays={settings.relays} network={network} />
      <KeyExport />
      <section className="card" aria-labelledby={accountHeadingId}>
        <h2 id={accountHeadingId}>Account</h2>
        <button type="button" onClick={() => void dispatch({ type: "Logout" })}>
          Log out
        </button>
      </section>
    </main>
  );
}
