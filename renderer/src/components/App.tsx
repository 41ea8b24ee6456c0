import { useAppState } from "../hooks/useAppState";
import { useConnectionStatus } from "../hooks/useConnectionStatus";
import { ConnectionBanner } from "./ConnectionBanner";
import { MainScreen } from "./MainScreen";
import { Toasts } from "./Toasts";
import { WelcomeScreen } from "./WelcomeScreen";

export function App() {
  const status = useConnectionStatus();
  const state = useAppState();
  return (
    <div className="app">
      <ConnectionBanner status={status} />
      {state && <Toasts toasts={state.toasts} />}
      {state &&
        (state.auth.status === "logged_in" ? (
          <MainScreen state={state} npub={state.auth.npub} pubkey={state.auth.pubkey} connected={status === "connected"} />
        ) : (
          <WelcomeScreen loginError={state.login_error} busy={state.busy.logging_in} />
        ))}
    </div>
  );
}
