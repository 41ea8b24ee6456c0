import { useState, type FormEvent } from "react";
import { useDispatch } from "../hooks/useDispatch";
import { Field } from "./Field";

export function WelcomeScreen({ loginError, busy }: { loginError: string | null; busy: boolean }) {
  const dispatch = useDispatch();
  const [key, setKey] = useState("");

  const importKey = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void dispatch({ type: "Login", nsec: key });
  };

  return (
    <main className="welcome">
      <h1>Welcome to Burrow</h1>
      <p className="lede">End-to-end encrypted group chat over Nostr.</p>
      <button type="button" className="primary" disabled={busy} onClick={() => void dispatch({ type: "CreateAccount" })}>
        Create account
      </button>
      <form className="card import-form" onSubmit={importKey}>
        <Field label="Private key (nsec or hex)" kind="secret" value={key} onChange={setKey} error={loginError} />
        <button type="submit" disabled={busy}>
          Import key
        </button>
      </form>
    </main>
  );
}
