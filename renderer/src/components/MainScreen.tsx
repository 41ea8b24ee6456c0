import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import type { AppState, ProfileView } from "../../../shared/state";
import { useDesktopNotifications } from "../hooks/useDesktopNotifications";
import { useDispatch } from "../hooks/useDispatch";
import { windowTitle } from "../windowTitle";
import { AgentButton } from "./AgentButton";
import { AppHeader } from "./AppHeader";
import { ChatList } from "./ChatList";
import { ChatSwitcher } from "./ChatSwitcher";
import { ChatView } from "./ChatView";
import type { ComposerHandle } from "./Composer";
import { InviteList } from "./InviteList";
import { KeyBackupPrompt } from "./KeyBackupPrompt";
import { KeyPackageNote } from "./KeyPackageNote";
import { NewChatDialog } from "./NewChatDialog";
import { NewGroupDialog } from "./NewGroupDialog";
import { SearchBox } from "./SearchBox";
import { SearchResults } from "./SearchResults";
import { SettingsPage } from "./SettingsPage";
import { SyncProgress } from "./SyncProgress";

/** `connected`: the page reaches the core; while it does not, the last state is shown but not its network status. */
export function MainScreen({ state, npub, pubkey, connected }: { state: AppState; npub: string; pubkey: string; connected: boolean }) {
  const dispatch = useDispatch();
  const [view, setView] = useState<"home" | "settings">("home");
  const [newChatOpen, setNewChatOpen] = useState(false);
  const [newGroupOpen, setNewGroupOpen] = useState(false);
  const [switcherOpen, setSwitcherOpen] = useState(false);
  const me = useMemo<ProfileView>(() => ({ pubkey, npub, name: state.profile?.name || null, picture: null }), [pubkey, npub, state.profile?.name]);
  const chatsHeadingId = useId();
  const composer = useRef<ComposerHandle>(null);
  const focusComposerAfterDialog = useRef(false);
  const closeNewChat = useCallback((opened: boolean) => {
    focusComposerAfterDialog.current = opened;
    setNewChatOpen(false);
  }, []);
  const closeNewGroup = useCallback((opened: boolean) => {
    focusComposerAfterDialog.current = opened;
    setNewGroupOpen(false);
  }, []);

  // Closing a modal dialog gives focus back to the button that opened it; a chat it opened wants it instead.
  useEffect(() => {
    if (newChatOpen || newGroupOpen || !focusComposerAfterDialog.current) return;
    focusComposerAfterDialog.current = false;
    composer.current?.focus();
  }, [newChatOpen, newGroupOpen]);
  const title = windowTitle(state.chats);
  useEffect(() => {
    document.title = title;
  }, [title]);
  // Logged out, the title drops the count.
  useEffect(
    () => () => {
      document.title = "Burrow";
    },
    [],
  );
  const openChat = useCallback((chatId: string) => void dispatch({ type: "OpenChat", chat_id: chatId }), [dispatch]);
  useEffect(() => {
    const openSwitcher = (event: KeyboardEvent): void => {
      if (event.key.toLowerCase() !== "k" || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
      // Not over another modal dialog (the page behind one is inert).
      if (document.querySelector("dialog[open]")) return;
      event.preventDefault();
      setSwitcherOpen(true);
    };
    window.addEventListener("keydown", openSwitcher);
    return () => window.removeEventListener("keydown", openSwitcher);
  }, []);
  useDesktopNotifications((chatId) => {
    setView("home");
    openChat(chatId);
  });

  if (view === "settings") {
    return (
      <SettingsPage
        settings={state.settings}
        network={state.network}
        agent={state.agent}
        secretStorage={state.secret_storage}
        onBack={() => setView("home")}
        me={me}
        profile={state.profile}
      />
    );
  }
  const open = state.open_chat;
  const openAgent = open ? (state.chats.find((chat) => chat.id === open.chat_id)?.agent ?? null) : null;
  return (
    <>
      <AppHeader npub={npub} network={state.network} connected={connected} onOpenSettings={() => setView("settings")} />
      <main className={open ? "home has-open-chat" : "home"}>
        {state.key_backup_prompt && <KeyBackupPrompt />}
        {state.secret_storage.notice && !state.secret_storage.notice_dismissed && (
          <div role="note" className="notice dismissible" aria-label="Key storage">
            <p>{state.secret_storage.notice}</p>
            <button type="button" onClick={() => void dispatch({ type: "DismissStorageNotice" })}>
              Dismiss
            </button>
          </div>
        )}
        <div className="panes">
          <section className="sidebar" aria-labelledby={chatsHeadingId}>
            <div className="sidebar-header">
              <h2 id={chatsHeadingId}>Chats</h2>
              {state.agent_button && <AgentButton state={state.agent_button} />}
              {/* Icon buttons, as Signal's compose button: the name is the label (and the tooltip). */}
              <button type="button" className="icon-button new-chat-button" aria-label="New chat" title="New chat" onClick={() => setNewChatOpen(true)}>
                <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                  <path d="M4 20h4l10.5-10.5-4-4L4 16v4z M13.5 6.5l4 4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
                </svg>
              </button>
              <button type="button" className="icon-button" aria-label="New group" title="New group" onClick={() => setNewGroupOpen(true)}>
                <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                  <circle cx="9" cy="8" r="3.2" fill="none" stroke="currentColor" strokeWidth="1.8" />
                  <path d="M3 19c0-3.3 2.7-5.5 6-5.5s6 2.2 6 5.5" fill="none" stroke="currentColor" strokeWidth="1.8" />
                  <path d="M18 8v6 M15 11h6" fill="none" stroke="currentColor" strokeWidth="1.8" />
                </svg>
              </button>
            </div>
            <SearchBox label="Search messages" />
            {state.sync && <SyncProgress sync={state.sync} />}
            {state.invites.length > 0 && <InviteList invites={state.invites} />}
            {state.search?.scope === "all" ? (
              <SearchResults search={state.search} chats={state.chats} />
            ) : (
              <ChatList chats={state.chats} openChatId={open?.chat_id ?? null} agentPhase={state.agent.phase} onOpen={openChat} />
            )}
            <KeyPackageNote keyPackage={state.key_package} />
          </section>
          <div className="conversation">
            {open ? (
              <ChatView
                key={open.chat_id}
                chat={open}
                agent={openAgent}
                me={me}
                updatingGroup={state.busy.updating_group}
                outcomes={state.outcomes}
                composerRef={composer}
                search={state.search}
                chats={state.chats}
              />
            ) : (
              <p className="placeholder">Select a chat or start a new one</p>
            )}
          </div>
        </div>
      </main>
      {newChatOpen && (
        <NewChatDialog creating={state.busy.creating_chat} openChat={open} outcomes={state.outcomes} onClose={closeNewChat} />
      )}
      {switcherOpen && <ChatSwitcher chats={state.chats} onOpen={openChat} onClose={() => setSwitcherOpen(false)} />}
      {newGroupOpen && (
        <NewGroupDialog updating={state.busy.updating_group} me={pubkey} openChat={open} outcomes={state.outcomes} onClose={closeNewGroup} />
      )}
    </>
  );
}
