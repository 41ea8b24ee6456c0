import { useId } from "react";
import { useNotificationPermission, type NotificationPermissionState } from "../hooks/useNotificationPermission";

const PERMISSION_TEXT: Record<NotificationPermissionState, string> = {
  granted: "Desktop notifications are on.",
  default: "Desktop notifications are off in this browser.",
  denied: "This browser blocks notifications from Burrow. Allow them in the site settings to turn them on.",
  unsupported: "This browser cannot show notifications for this page.",
};

/**
 * Burrow notifies about new messages while its window is in the background; muted chats stay quiet.
 * The Electron app shows native notifications; in a browser the page needs the user's permission first.
 */
export function NotificationSettings() {
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>Notifications</h2>
      <p>Burrow notifies you about new messages while its window is in the background. Mute a chat from its header to silence it.</p>
      {!window.burrow && <BrowserPermission />}
    </section>
  );
}

function BrowserPermission() {
  const [permission, request] = useNotificationPermission();
  return (
    <>
      <p role="status" aria-label="Notification permission" className={`status-dot notification-permission-${permission}`}>
        {PERMISSION_TEXT[permission]}
      </p>
      {permission === "default" && (
        <button type="button" onClick={request}>
          Enable desktop notifications
        </button>
      )}
    </>
  );
}
