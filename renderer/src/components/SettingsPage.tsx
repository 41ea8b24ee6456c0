import { useId, useState } from "react";
import type { AgentState, NetworkState, OwnProfile, ProfileView, SecretStorageState, SettingsState } from "../../../shared/state";
import { AgentSettings } from "./AgentSettings";
import { KeyExport } from "./KeyExport";
import { LogoutDialog } from "./LogoutDialog";
import { NotificationSettings } from "./NotificationSettings";
import { ProfileSettings } from "./ProfileSettings";
import { RelaySettings } from "./RelaySettings";

interface SettingsPageProps {
  settings: SettingsState;
  network: NetworkState;
  agent: AgentState;
  secretStorage: SecretStorageState;
  onBack: () => void;
  me: ProfileView;
  profile: OwnProfile | null;
}

export function SettingsPage({ settings, network, agent, secretStorage, onBack, me, profile }: SettingsPageProps) {
  const accountHeadingId = useId();
  const storageHeadingId = useId();
  const [loggingOut, setLoggingOut] = useState(false);
  return (
    <main className="settings">
      <header className="page-header">
        <button type="button" onClick={onBack}>
          Back
        </button>
        <h1>Settings</h1>
      </header>
      <ProfileSettings me={me} profile={profile} loadPictures={settings.load_pictures} />
      <RelaySettings relays={settings.relays} network={network} />
      <AgentSettings agent={agent} chosenUrl={settings.agent_api_url} />
      <NotificationSettings />
      {secretStorage.notice && (
        <section className="card" aria-labelledby={storageHeadingId}>
          <h2 id={storageHeadingId}>Key storage</h2>
          <p>{secretStorage.notice}</p>
        </section>
      )}
      <KeyExport />
      <section className="card" aria-labelledby={accountHeadingId}>
        <h2 id={accountHeadingId}>Account</h2>
        <button type="button" onClick={() => setLoggingOut(true)}>
          Log out
        </button>
      </section>
      {loggingOut && <LogoutDialog onCancel={() => setLoggingOut(false)} />}
    </main>
  );
}
