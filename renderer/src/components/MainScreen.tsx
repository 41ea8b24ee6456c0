import { useId, useState } from "react";
import type { AppState } from "../../../shared/state";
import { AgentButton } from "./AgentButton";
import { AppHeader } from "./AppHeader";
import { ChatList } from "./ChatList";
import { SettingsPage } from "./SettingsPage";

export function MainScreen({ state, npub }: { state: AppState; npub: string }) {
  const [view, setView] = useState<"home" | "settings">("home");
  const chatsHeadingId = useId();

  if (view === "settings") return <SettingsPage onBack={() => setView("home")} />;
  return (
    <>
      <AppHeader npub={npub} network={state.network} onOpenSettings={() => setView("settings")} />
      <main className="home">
        {state.secret_storage.notice && (
          <p role="note" className="notice">
            {state.secret_storage.notice}
          </p>
        )}
        {state.agent_button && <AgentButton state={state.agent_button} />}
        <section className="chats" aria-labelledby={chatsHeadingId}>
          <h2 id={chatsHeadingId}>Chats</h2>
          <ChatList chats={state.chats} />
        </section>
      </main>
    </>
  );
}
