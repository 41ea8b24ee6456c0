import { useId, useState, type FormEvent } from "react";
import { useDispatch } from "../hooks/useDispatch";

export function WelcomeScreen({ loginError, busy }: { loginError: string | null; busy: boolean }) {
  const dispatch = useDispatch();
  const [key, setKey] = useState("");
  const fieldId = useId();
  const errorId = useId();

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
        <label htmlFor={fieldId}>Private key (nsec or hex)</label>
        <input
          id={fieldId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-invalid={loginError !== null}
          aria-describedby={loginError ? errorId : undefined}
        />
        {loginError && (
          <p id={errorId} role="alert" className="field-error">
            {loginError}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Import key
        </button>
      </form>
    </main>
  );
}
