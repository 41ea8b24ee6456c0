import { useEffect, useId, useState, type FormEvent } from "react";
import { MAX_GROUP_DESCRIPTION_LENGTH, MAX_GROUP_NAME_LENGTH } from "../../../shared/actions";
import type { OpenChatState, RequestOutcome } from "../../../shared/state";
import { newRequestId, outcomeOf } from "../groupInput";
import { useDispatch } from "../hooks/useDispatch";
import { useModalDialog } from "../hooks/useModalDialog";

interface RenameGroupDialogProps {
  chat: OpenChatState;
  /** busy.updating_group: a group commit is on its way. */
  updating: boolean;
  outcomes: RequestOutcome[];
  onClose: () => void;
}

interface Request {
  name: string;
  description: string;
  requestId: number;
  /** A refusal before the core took the request (a malformed action has no outcome). */
  replyError: string | null;
}

/** Stays open until the group carries the new name and description; its own request's error shows here. */
export function RenameGroupDialog({ chat, updating, outcomes, onClose }: RenameGroupDialogProps) {
  const dispatch = useDispatch();
  const dialog = useModalDialog();
  const headingId = useId();
  const nameId = useId();
  const descriptionId = useId();
  const [name, setName] = useState(chat.title);
  const [description, setDescription] = useState(chat.description);
  const [request, setRequest] = useState<Request | null>(null);

  useEffect(() => {
    if (request && chat.title === request.name && chat.description === request.description) onClose();
  }, [request, chat.title, chat.description, onClose]);

  const changed = name.trim() !== chat.title || description.trim() !== chat.description;
  const savable = name.trim() !== "" && changed && !updating;
  const coreError = request ? (outcomeOf(outcomes, request.requestId)?.error ?? request.replyError) : null;

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    if (!savable) return;
    const sent: Request = { name: name.trim(), description: description.trim(), requestId: newRequestId(), replyError: null };
    setRequest(sent);
    const reply = await dispatch({ type: "RenameGroup", chat_id: chat.chat_id, name: sent.name, description: sent.description, request_id: sent.requestId });
    if (!reply.ok) setRequest((current) => (current === sent ? { ...sent, replyError: reply.error } : current));
  };

  return (
    <dialog
      ref={dialog}
      aria-labelledby={headingId}
      className="dialog new-chat-dialog"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <form className="dialog-form" onSubmit={(event) => void submit(event)} noValidate>
        <h2 id={headingId}>Rename group</h2>
        <label htmlFor={nameId}>Group name</label>
        <input
          id={nameId}
          type="text"
          className="text-input"
          autoComplete="off"
          autoFocus
          maxLength={MAX_GROUP_NAME_LENGTH}
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <label htmlFor={descriptionId}>Description</label>
        <textarea
          id={descriptionId}
          className="text-input description-input"
          rows={3}
          maxLength={MAX_GROUP_DESCRIPTION_LENGTH}
          value={description}
          onChange={(event) => setDescription(event.target.value)}
        />
        {updating && request && (
          <p role="status" className="busy-status">
            <span className="spinner" aria-hidden="true" />
            Saving…
          </p>
        )}
        {!updating && coreError && (
          <p role="alert" className="field-error">
            {coreError}
          </p>
        )}
        <div className="row dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!savable}>
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
