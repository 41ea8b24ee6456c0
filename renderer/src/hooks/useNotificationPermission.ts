import { useCallback, useEffect, useState } from "react";

/** "unsupported" where the page cannot show notifications at all (e.g. served over plain http to another device). */
export type NotificationPermissionState = NotificationPermission | "unsupported";

const currentPermission = (): NotificationPermissionState =>
  typeof Notification === "undefined" ? "unsupported" : Notification.permission;

/** The page's notification permission, kept current when the user changes it in the browser, and a way to ask for it. */
export function useNotificationPermission(): [NotificationPermissionState, () => void] {
  const [permission, setPermission] = useState(currentPermission);

  useEffect(() => {
    if (!navigator.permissions) return;
    let status: PermissionStatus | null = null;
    let cancelled = false;
    const update = (): void => setPermission(currentPermission());
    navigator.permissions.query({ name: "notifications" }).then(
      (result) => {
        if (cancelled) return;
        status = result;
        status.addEventListener("change", update);
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
      status?.removeEventListener("change", update);
    };
  }, []);

  /** Must run from a user gesture: browsers ignore (or penalise) a permission prompt without one. */
  const request = useCallback(() => {
    if (typeof Notification === "undefined") return;
    void Notification.requestPermission().then(setPermission, () => setPermission(currentPermission()));
  }, []);

  return [permission, request];
}
