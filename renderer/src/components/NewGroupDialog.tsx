import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { MAX_GROUP_DESCRIPTION_LENGTH, MAX_GROUP_MEMBERS_PER_ACTION, MAX_GROUP_NAME_LENGTH } from "../../../shared/actions";
import { npubFromHex, shortNpub } from "../../../shared/pubkeys";
import type { OpenChatState, RequestOutcome } from "../../../shared/state";
import { newRequestId, outcomeOf, parseMemberInput } from "../groupInput";
import { useDispatch } from "../hooks/useDispatch";
import { Field } from "./Field";
import { FormDialog } from "./FormDialog";

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
  const memberField = useRef<HTMLInputElement>(null);
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

  // Enter in the member field adds the member; it does not submit the group.
  const onMemberKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key !== "Enter" || event.nativeEvent.isComposing) return;
    event.preventDefault();
    addMember();
  };

  const submit = async (): Promise<void> => {
    if (!creatable) return;
    const sent: Request = { openChatId: openChat?.chat_id ?? null, requestId: newRequestId(), replyError: null };
    setRequest(sent);
    const reply = await dispatch({ type: "CreateGroup", name: name.trim(), description: description.trim(), members: pubkeys, request_id: sent.requestId });
    if (!reply.ok) setRequest((current) => (current === sent ? { ...sent, replyError: reply.error } : current));
  };

  return (
    <FormDialog
      title="New group"
      submitLabel="Create group"
      canSubmit={creatable}
      onSubmit={() => void submit()}
      onCancel={() => onClose(false)}
      busy={updating && request ? "Creating group…" : null}
      error={updating ? null : coreError}
    >
      <Field label="Group name" autoFocus maxLength={MAX_GROUP_NAME_LENGTH} value={name} onChange={setName} />
      <Field label="Description" rows={2} maxLength={MAX_GROUP_DESCRIPTION_LENGTH} placeholder="Optional" value={description} onChange={setDescription} />
      <Field
        label="Member npub"
        kind="key"
        placeholder="npub1…"
        inputRef={memberField}
        value={memberInput}
        onChange={(value) => {
          setMemberInput(value);
          setMemberTouched(true);
        }}
        onKeyDown={onMemberKeyDown}
        error={memberError}
        action={
          <button type="button" disabled={!parsedMember.ok} onClick={addMember}>
            Add member
          </button>
        }
      />
      <ul role="list" aria-label="New group members" className="plain-list member-list new-member-list">
        {members.map((member) => (
          <li key={member.pubkey} className="member">
            <span className="member-name mono truncate" title={member.npub}>
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
    </FormDialog>
  );
}
