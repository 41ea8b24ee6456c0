import type { MessageRowLayout } from "../messageLayout";
import { newMessagesText } from "../messageLayout";

/** What opens a message's row: the date line where the day changes, the "N new messages" divider. */
export function MessageRowHeading({ layout, unreadAtOpen }: { layout: MessageRowLayout; unreadAtOpen: number }) {
  if (!layout.day && !layout.newDivider) return null;
  return (
    <div className="row-heading">
      {layout.day && (
        <p className="day-line">
          <span>{layout.day}</span>
        </p>
      )}
      {layout.newDivider && (
        <p className="new-divider">
          <span>{newMessagesText(unreadAtOpen)}</span>
        </p>
      )}
    </div>
  );
}
