import { useId, useState } from "react";
import { useDispatch } from "../hooks/useDispatch";
import { ConfirmKeyExportDialog } from "./ConfirmKeyExportDialog";
import { CopyButton } from "./CopyButton";

/** The exported key lives only in this component's state: never in AppState, gone on Hide or unmount. */
export function KeyExport() {
  const dispatch = useDispatch();
  const headingId = useId();
  const [confirming, setConfirming] = useState(false);
  const [exporting, setExporting] = useState(false);
  const [nsec, setNsec] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const exportKey = async (): Promise<void> => {
    setConfirming(false);
    setExporting(true);
    setError(null);
    const reply = await dispatch({ type: "ExportSecretKey", confirmed: true });
    setExporting(false);
    if (!reply.ok) setError(reply.error);
    else if (reply.nsec) setNsec(reply.nsec);
    else setError("Burrow did not return a key.");
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>Export private key</h2>
      <p>Your private key is your account. Keep a copy somewhere safe to use it on another device.</p>
      {nsec === null ? (
        <button type="button" disabled={exporting} onClick={() => setConfirming(true)}>
          Show private key
        </button>
      ) : (
        <>
          <span role="textbox" aria-readonly="true" aria-label="Your private key" tabIndex={0} className="secret mono">
            {nsec}
          </span>
          <div className="row">
            <CopyButton label="Copy private key" text={nsec} />
            <button type="button" onClick={() => setNsec(null)}>
              Hide
            </button>
          </div>
        </>
      )}
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
      {confirming && <ConfirmKeyExportDialog onCancel={() => setConfirming(false)} onConfirm={() => void exportKey()} />}
    </section>
  );
}
