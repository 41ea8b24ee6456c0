import { useEffect, useEffectEvent } from "react";
import type { NotificationState } from "../../../shared/state";
import { useBurrow } from "./useBurrow";

const windowInBackground = (): boolean => document.visibilityState === "hidden" || !document.hasFocus();

/**
 * The browser host's desktop notifications: a new `state.notification` (a higher seq) is shown
 * while the page is hidden or unfocused, if the user allowed it. Under Electron the main process
 * shows native notifications itself, so this does nothing there.
 *
 * The first snapshot after mounting or after a (re)connect only sets the baseline: its notification
 * was made while this page was not listening (or by a core whose seq started over), so it is not news.
 */
export function useDesktopNotifications(onOpen: (chatId: string) => void): void {
  const { connection, store } = useBurrow();
  const open = useEffectEvent(onOpen);

  useEffect(() => {
    if (window.burrow || typeof Notification === "undefined") return;
    const seqOf = (notification: NotificationState | null | undefined): number => notification?.seq ?? 0;
    const current = store.getSnapshot();
    let baseline: number | null = current ? seqOf(current.state.notification) : null;

    const show = ({ chat_id: chatId, title, body }: NotificationState): void => {
      const notification = new Notification(title, { body, tag: chatId });
      notification.onclick = () => {
        window.focus();
        open(chatId);
        notification.close();
      };
    };

    const onSnapshot = (): void => {
      const notification = store.getSnapshot()?.state.notification ?? null;
      if (baseline === null) {
        baseline = seqOf(notification);
        return;
      }
      if (!notification || notification.seq <= baseline) return;
      baseline = notification.seq;
      if (Notification.permission === "granted" && windowInBackground()) show(notification);
    };

    const unsubscribeStore = store.subscribe(onSnapshot);
    const unsubscribeStatus = connection.onStatus(() => {
      baseline = null;
    });
    return () => {
      unsubscribeStore();
      unsubscribeStatus();
    };
  }, [connection, store]);
}
