import { useId, useState } from "react";
import { useDispatch } from "../hooks/useDispatch";
import { CopyButton } from "./CopyButton";

/**
 * Once, after an account was created here: its key exists only on this device. Dismissing it (or
 * finishing the backup) is remembered by the core for this account.
 */
export function KeyBackupPrompt() {
  const dispatch = useDispatch();
  const headingId = useId();
  const [nsec, setNsec] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const show = async (): Promise<void> => {
    setError(null);
    const reply = await dispatch({ type: "ExportSecretKey", confirmed: true });
    if (reply.ok && reply.nsec) setNsec(reply.nsec);
    else setError(reply.ok ? "Burrow did not return a key." : reply.error);
  };

  return (
    <section className="notice key-backup" aria-labelledby={headingId}>
      <h2 id={headingId}>Back up your key</h2>
      <p>Your new account's private key exists only on this device. Keep a copy somewhere safe, or you lose the account with the device.</p>
      {nsec !== null && (
        <div className="row">
          <span role="textbox" aria-readonly="true" aria-label="Your private key" tabIndex={0} className="secret mono">
            {nsec}
          </span>
          <CopyButton label="Copy private key" text={nsec} />
        </div>
      )}
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
      <div className="row">
        {nsec === null ? (
          <button type="button" onClick={() => void show()}>
            Show my key
          </button>
        ) : (
          <button type="button" className="primary" onClick={() => void dispatch({ type: "DismissKeyBackup" })}>
            I saved my key
          </button>
        )}
        {nsec === null && (
          <button type="button" onClick={() => void dispatch({ type: "DismissKeyBackup" })}>
            Not now
          </button>
        )}
      </div>
    </section>
  );
}
