import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { MAX_GROUP_DESCRIPTION_LENGTH, MAX_GROUP_MEMBERS_PER_ACTION, MAX_GROUP_NAME_LENGTH } from "../../../shared/actions";
import { npubFromHex, shortNpub } from "../../../shared/pubkeys";
import type { OpenChatState, RequestOutcome } from "../../../shared/state";
import { newRequestId, outcomeOf, parseMemberInput } from "../groupInput";
import { useDispatch } from "../hooks/useDispatch";
import { useModalDialog } from "../hooks/useModalDialog";

interface NewGroupDialogProps {
  /** busy.updating_group: a group commit is on its way. */
  updating: boolean;
  /** Our own pubkey (hex), which is no member to add. */
  me: string;
  openChat: OpenChatState | null;
  outcomes: RequestOutcome[];
  /** `opened` when the core opened the new group, as opposed to a cancel. */
  onClose: (opened: boolean) => void;
}

interface Member {
  pubkey: string;
  npub: string;
}

/** What was asked for, to recognise the group the core opens and the errors that came after. */
interface Request {
  openChatId: string | null;
  requestId: number;
  /** A refusal before the core took the request (a malformed action has no outcome). */
  replyError: string | null;
}

/** Stays open until the core opens the new group; the outcome of its own request (by id) shows here, never as a toast. */
export function NewGroupDialog({ updating, me, openChat, outcomes, onClose }: NewGroupDialogProps) {
  const dispatch = useDispatch();
  const dialog = useModalDialog();
  const memberField = useRef<HTMLInputElement>(null);
  const headingId = useId();
  const nameId = useId();
  const descriptionId = useId();
  const memberId = useId();
  const memberErrorId = useId();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [memberInput, setMemberInput] = useState("");
  const [memberTouched, setMemberTouched] = useState(false);
  const [members, setMembers] = useState<Member[]>([]);
  const [request, setRequest] = useState<Request | null>(null);

  useEffect(() => {
    if (request && openChat?.kind === "group" && openChat.chat_id !== request.openChatId) onClose(true);
  }, [request, openChat, onClose]);

  const pubkeys = members.map((member) => member.pubkey);
  const parsedMember =
    members.length >= MAX_GROUP_MEMBERS_PER_ACTION
      ? { ok: false as const, error: `A new group has at most ${MAX_GROUP_MEMBERS_PER_ACTION} other members` }
      : parseMemberInput(memberInput, me, pubkeys, "Already in the list");
  const memberError = memberTouched && memberInput.trim() !== "" && !parsedMember.ok ? parsedMember.error : null;
  const creatable = name.trim() !== "" && members.length > 0 && !updating;
  const coreError = request ? (outcomeOf(outcomes, request.requestId)?.error ?? request.replyError) : null;

  const addMember = (): void => {
    setMemberTouched(true);
    if (!parsedMember.ok) return;
    const { pubkey } = parsedMember;
    setMembers((current) => [...current, { pubkey, npub: npubFromHex(pubkey) }]);
    setMemberInput("");
    setMemberTouched(false);
    memberField.current?.focus();
  };

  const removeMember = (pubkey: string): void => {
    setMembers((current) => current.filter((member) => member.pubkey !== pubkey));
    memberField.current?.focus();
  };

  const onMemberKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key !== "Enter" || event.nativeEvent.isComposing) return;
    event.preventDefault();
    addMember();
  };

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    if (!creatable) return;
    const sent: Request = { openChatId: openChat?.chat_id ?? null, requestId: newRequestId(), replyError: null };
    setRequest(sent);
    const reply = await dispatch({ type: "CreateGroup", name: name.trim(), description: description.trim(), members: pubkeys, request_id: sent.requestId });
    if (!reply.ok) setRequest((current) => (current === sent ? { ...sent, replyError: reply.error } : current));
  };

  return (
    <dialog
      ref={dialog}
      aria-labelledby={headingId}
      className="dialog new-chat-dialog"
      onCancel={(event) => {
        event.preventDefault();
        onClose(false);
      }}
    >
      <form className="dialog-form" onSubmit={(event) => void submit(event)} noValidate>
        <h2 id={headingId}>New group</h2>
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
          rows={2}
          maxLength={MAX_GROUP_DESCRIPTION_LENGTH}
          placeholder="Optional"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
        />
        <label htmlFor={memberId}>Member npub</label>
        <div className="row member-input-row">
          <input
            ref={memberField}
            id={memberId}
            type="text"
            className="text-input mono"
            autoComplete="off"
            spellCheck={false}
            placeholder="npub1…"
            value={memberInput}
            onChange={(event) => {
              setMemberInput(event.target.value);
              setMemberTouched(true);
            }}
            onKeyDown={onMemberKeyDown}
            aria-invalid={memberError !== null}
            aria-describedby={memberError ? memberErrorId : undefined}
          />
          <button type="button" disabled={!parsedMember.ok} onClick={addMember}>
            Add member
          </button>
        </div>
        {memberError && (
          <p id={memberErrorId} role="alert" className="field-error">
            {memberError}
          </p>
        )}
        <ul role="list" aria-label="New group members" className="member-list new-member-list">
          {members.map((member) => (
            <li key={member.pubkey} className="member">
              <span className="member-name mono" title={member.npub}>
                {shortNpub(member.npub)}
              </span>
              <button
                type="button"
                className="small-button"
                aria-label={`Remove ${shortNpub(member.npub)}`}
                onClick={() => removeMember(member.pubkey)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
        {members.length === 0 && <p className="hint">Add at least one member. You will be the group's admin.</p>}
        {updating && request && (
          <p role="status" className="busy-status">
            <span className="spinner" aria-hidden="true" />
            Creating group…
          </p>
        )}
        {!updating && coreError && (
          <p role="alert" className="field-error">
            {coreError}
          </p>
        )}
        <div className="row dialog-actions">
          <button type="button" onClick={() => onClose(false)}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!creatable}>
            Create group
          </button>
        </div>
      </form>
    </dialog>
  );
}
