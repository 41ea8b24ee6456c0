import type { Toast } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";

/**
 * The core's toasts, in the page's flow under the header rather than floating over it, so they never
 * cover a control. Info toasts leave by themselves (the core times them out); errors stay until closed.
 */
export function Toasts({ toasts }: { toasts: Toast[] }) {
  const dispatch = useDispatch();
  return (
    <div role="region" aria-label="Notifications" className={toasts.length > 0 ? "toasts toasts-shown" : "toasts"}>
      {toasts.map((toast) => (
        <div key={toast.id} role={toast.kind === "error" ? "alert" : "status"} className={`toast toast-${toast.kind}`}>
          <p className="toast-message">{toast.message}</p>
          <button type="button" className="toast-close" aria-label="Dismiss notification" title="Close" onClick={() => void dispatch({ type: "DismissToast", id: toast.id })}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
