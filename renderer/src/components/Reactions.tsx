import type { KeyboardEvent, Ref } from "react";
import type { ReactionView } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";

const REACTION_CHOICES = ["👍", "❤️", "😂", "🎉", "👀"] as const;

const chipLabel = (reaction: ReactionView): string => `${reaction.emoji} ${reaction.count}${reaction.mine ? ", you reacted" : ""}`;

interface ReactionsProps {
  chatId: string;
  messageId: string;
  reactions: ReactionView[];
  /** False in a chat we left: the chips stay as history. */
  canReact: boolean;
  pickerId: string;
  pickerOpen: boolean;
  onClosePicker: () => void;
}

/** The reaction chips under a message, and the choices the "Add reaction" button opens. Pressing either sends React. */
export function Reactions({ chatId, messageId, reactions, canReact, pickerId, pickerOpen, onClosePicker }: ReactionsProps) {
  const dispatch = useDispatch();
  if (reactions.length === 0 && !pickerOpen) return null;
  const react = (emoji: string): void => {
    void dispatch({ type: "React", chat_id: chatId, message_id: messageId, emoji });
  };
  return (
    <div className="reactions">
      {reactions.map((reaction) => (
        <button
          key={reaction.emoji}
          type="button"
          className={reaction.mine ? "reaction reaction-mine" : "reaction"}
          data-roving=""
          aria-label={chipLabel(reaction)}
          title={reaction.mine ? "You reacted" : undefined}
          disabled={!canReact}
          onClick={() => react(reaction.emoji)}
        >
          <span aria-hidden="true">{reaction.emoji}</span>
          <span aria-hidden="true" className="reaction-count">
            {reaction.count}
          </span>
        </button>
      ))}
      {pickerOpen && canReact && (
        <ReactionPicker
          id={pickerId}
          onChoose={(emoji) => {
            react(emoji);
            onClosePicker();
          }}
          onClose={onClosePicker}
        />
      )}
    </div>
  );
}

function ReactionPicker({ id, onChoose, onClose }: { id: string; onChoose: (emoji: string) => void; onClose: () => void }) {
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key !== "Escape") return;
    event.stopPropagation();
    onClose();
  };
  return (
    <div id={id} role="group" aria-label="Choose a reaction" className="reaction-picker" onKeyDown={onKeyDown}>
      {REACTION_CHOICES.map((emoji, index) => (
        <button key={emoji} type="button" className="reaction-choice" aria-label={`React with ${emoji}`} autoFocus={index === 0} onClick={() => onChoose(emoji)}>
          {emoji}
        </button>
      ))}
    </div>
  );
}

interface AddReactionButtonProps {
  ref: Ref<HTMLButtonElement>;
  open: boolean;
  controls: string;
  onToggle: () => void;
}

/** A small smiley in the message's meta line; the choices open under the message. */
export function AddReactionButton({ ref, open, controls, onToggle }: AddReactionButtonProps) {
  return (
    <button
      ref={ref}
      type="button"
      className="add-reaction"
      data-roving=""
      aria-label="Add reaction"
      aria-expanded={open}
      aria-controls={open ? controls : undefined}
      title="Add reaction"
      onClick={onToggle}
    >
      <svg viewBox="0 0 20 20" width="14" height="14" aria-hidden="true" focusable="false">
        <circle cx="9" cy="10" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
        <circle cx="6.8" cy="8.5" r="0.9" fill="currentColor" />
        <circle cx="11.2" cy="8.5" r="0.9" fill="currentColor" />
        <path d="M6.3 11.6a3.2 3.2 0 0 0 5.4 0" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" />
        <path d="M16.5 2.5v5M14 5h5" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" />
      </svg>
    </button>
  );
}
