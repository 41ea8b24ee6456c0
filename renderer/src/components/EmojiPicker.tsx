import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { EMOJI_COLUMNS as COLUMNS, EMOJI_GROUPS, gridMove } from "../emoji";

const ALL = EMOJI_GROUPS.flatMap((group) => group.emoji);

/** A small grid of emoji: one tab stop, arrow keys move, Enter or a click picks, Escape closes. */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const [active, setActive] = useState(0);
  const buttons = useRef<Array<HTMLButtonElement | null>>([]);
  const labelId = useId();
  useEffect(() => buttons.current[active]?.focus(), [active]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key === "Escape") {
      event.preventDefault();
      onClose();
      return;
    }
    const next = gridMove(active, event.key, ALL.length, COLUMNS);
    if (next !== active) {
      event.preventDefault();
      setActive(next);
    }
  };

  let index = 0;
  return (
    <div className="emoji-picker" role="dialog" aria-labelledby={labelId} onKeyDown={onKeyDown}>
      <h2 id={labelId} className="visually-hidden">
        Emoji
      </h2>
      {EMOJI_GROUPS.map((group) => (
        <div key={group.name} role="group" aria-label={group.name} className="emoji-group">
          {group.emoji.map((emoji) => {
            const at = index++;
            return (
              <button
                key={emoji}
                ref={(node) => {
                  buttons.current[at] = node;
                }}
                type="button"
                className="emoji-button"
                tabIndex={at === active ? 0 : -1}
                aria-label={emoji}
                onClick={() => onPick(emoji)}
              >
                {emoji}
              </button>
            );
          })}
        </div>
      ))}
    </div>
  );
}
