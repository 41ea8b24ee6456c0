import type { Toast } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";

export function Toasts({ toasts }: { toasts: Toast[] }) {
  const dispatch = useDispatch();
  return (
    <div role="region" aria-label="Notifications" className="toasts">
      {toasts.map((toast) => (
        <div key={toast.id} role={toast.kind === "error" ? "alert" : "status"} className={`toast toast-${toast.kind}`}>
          <p className="toast-message">{toast.message}</p>
          <button
            type="button"
            aria-label="Dismiss notification"
            onClick={() => void dispatch({ type: "DismissToast", id: toast.id })}
          >
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
