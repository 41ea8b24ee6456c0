import { useState } from "react";
import { useDispatch } from "../hooks/useDispatch";
import { ConfirmDialog } from "./ConfirmDialog";
import { CopyButton } from "./CopyButton";

interface LogoutDialogProps {
  onCancel: () => void;
}

/**
 * Logging out deletes the key from this device, so it asks first and offers the key for a copy. The
 * exported key lives only in this dialog's state, never in AppState.
 */
export function LogoutDialog({ onCancel }: LogoutDialogProps) {
  const dispatch = useDispatch();
  const [nsec, setNsec] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const exportKey = async (): Promise<void> => {
    setError(null);
    const reply = await dispatch({ type: "ExportSecretKey", confirmed: true });
    if (reply.ok && reply.nsec) setNsec(reply.nsec);
    else setError(reply.ok ? "Burrow did not return a key." : reply.error);
  };

  return (
    <ConfirmDialog
      title="Log out?"
      message="Logging out deletes your private key from this device. Without a copy of it you cannot sign in to this account again, here or anywhere."
      confirmLabel="Log out and delete key"
      onCancel={onCancel}
      onConfirm={() => void dispatch({ type: "Logout" })}
      extraActions={
        nsec === null && (
          <button type="button" onClick={() => void exportKey()}>
            Export key first
          </button>
        )
      }
    >
      {nsec !== null && (
        <>
          <span role="textbox" aria-readonly="true" aria-label="Your private key" tabIndex={0} className="secret mono">
            {nsec}
          </span>
          <CopyButton label="Copy private key" text={nsec} />
        </>
      )}
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
    </ConfirmDialog>
  );
}
