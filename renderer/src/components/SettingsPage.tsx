import { useId } from "react";
import type { AgentState, NetworkState, SettingsState } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";
import { AgentSettings } from "./AgentSettings";
import { KeyExport } from "./KeyExport";
import { NotificationSettings } from "./NotificationSettings";
import { RelaySettings } from "./RelaySettings";

interface SettingsPageProps {
  settings: SettingsState;
  network: NetworkState;
  agent: AgentState;
  onBack: () => void;
}

export function SettingsPage({ settings, network, agent, onBack }: SettingsPageProps) {
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
      <AgentSettings agent={agent} chosenUrl={settings.agent_api_url} />
      <NotificationSettings />
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
