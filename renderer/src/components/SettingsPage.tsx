import { useId } from "react";
import { useDispatch } from "../hooks/useDispatch";
import { KeyExport } from "./KeyExport";

export function SettingsPage({ onBack }: { onBack: () => void }) {
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
