import { useEffect, useState } from "react";
import { MAX_GROUP_DESCRIPTION_LENGTH, MAX_GROUP_NAME_LENGTH } from "../../../shared/actions";
import type { OpenChatState, RequestOutcome } from "../../../shared/state";
import { newRequestId, outcomeOf } from "../groupInput";
import { useDispatch } from "../hooks/useDispatch";
import { Field } from "./Field";
import { FormDialog } from "./FormDialog";

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
  const [name, setName] = useState(chat.title);
  const [description, setDescription] = useState(chat.description);
  const [request, setRequest] = useState<Request | null>(null);

  useEffect(() => {
    if (request && chat.title === request.name && chat.description === request.description) onClose();
  }, [request, chat.title, chat.description, onClose]);

  const changed = name.trim() !== chat.title || description.trim() !== chat.description;
  const savable = name.trim() !== "" && changed && !updating;
  const coreError = request ? (outcomeOf(outcomes, request.requestId)?.error ?? request.replyError) : null;

  const submit = async (): Promise<void> => {
    if (!savable) return;
    const sent: Request = { name: name.trim(), description: description.trim(), requestId: newRequestId(), replyError: null };
    setRequest(sent);
    const reply = await dispatch({ type: "RenameGroup", chat_id: chat.chat_id, name: sent.name, description: sent.description, request_id: sent.requestId });
    if (!reply.ok) setRequest((current) => (current === sent ? { ...sent, replyError: reply.error } : current));
  };

  return (
    <FormDialog
      title="Rename group"
      submitLabel="Save"
      canSubmit={savable}
      onSubmit={() => void submit()}
      onCancel={onClose}
      busy={updating && request ? "Saving…" : null}
      error={updating ? null : coreError}
    >
      <Field label="Group name" autoFocus maxLength={MAX_GROUP_NAME_LENGTH} value={name} onChange={setName} />
      <Field label="Description" rows={3} maxLength={MAX_GROUP_DESCRIPTION_LENGTH} value={description} onChange={setDescription} />
    </FormDialog>
  );
}
