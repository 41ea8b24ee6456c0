import { useCallback, useState, type FormEvent } from "react";
import type { OpenChatState, ProfileView, RequestOutcome } from "../../../shared/state";
import { openChatTitle, profileName } from "../format";
import { newRequestId, outcomeOf, parseMemberInput } from "../groupInput";
import { useDispatch } from "../hooks/useDispatch";
import { ConfirmDialog } from "./ConfirmDialog";
import { Field } from "./Field";
import { FormFeedback } from "./FormFeedback";
import { RenameGroupDialog } from "./RenameGroupDialog";

interface MembersPanelProps {
  id: string;
  chat: OpenChatState;
  /** Our own identity, listed as "(you)" whether or not the core counts us among the members. */
  me: ProfileView;
  /** busy.updating_group: a group commit is on its way; group changes wait for it. */
  updating: boolean;
  /** Outcomes of the forms' own requests (their errors show inline, not as toasts). */
  outcomes: RequestOutcome[];
}

/** We first, then the others in the core's order. */
function withSelf(members: ProfileView[], me: ProfileView): ProfileView[] {
  const self = members.find((member) => member.pubkey === me.pubkey) ?? me;
  return [self, ...members.filter((member) => member.pubkey !== me.pubkey)];
}

/**
 * A group's members, and what we may do to the group: admins add, remove and rename; everyone may leave.
 * Nothing changes a group we left.
 */
export function MembersPanel({ id, chat, me, updating, outcomes }: MembersPanelProps) {
  const dispatch = useDispatch();
  const [removing, setRemoving] = useState<ProfileView | null>(null);
  const [renaming, setRenaming] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const closeRename = useCallback(() => setRenaming(false), []);
  const members = withSelf(chat.members, me);
  const canManage = chat.am_admin && !chat.left;
  const title = openChatTitle(chat);

  return (
    <section id={id} aria-label="Members" className="members-panel">
      <ul role="list" aria-label="Group members" className="plain-list member-list">
        {members.map((member) => {
          const self = member.pubkey === me.pubkey;
          const name = profileName(member);
          return (
            <li key={member.pubkey} className="member">
              <span className="member-label">
                <span className="member-name truncate" title={member.npub}>
                  {name}
                </span>
                {chat.admins.includes(member.pubkey) && <span className="member-tag"> (admin)</span>}
                {self && <span className="member-tag"> (you)</span>}
              </span>
              {canManage && !self && (
                <button type="button" className="small-button" disabled={updating} aria-label={`Remove ${name}`} onClick={() => setRemoving(member)}>
                  Remove
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {canManage && <AddMemberForm chat={chat} me={me.pubkey} updating={updating} outcomes={outcomes} />}
      <FormFeedback busy={updating ? "Updating group…" : null} error={null} />
      {!chat.left && (
        <div className="row members-actions">
          {canManage && (
            <button type="button" disabled={updating} onClick={() => setRenaming(true)}>
              Rename group
            </button>
          )}
          <button type="button" className="danger-outline" disabled={updating} onClick={() => setLeaving(true)}>
            Leave group
          </button>
        </div>
      )}
      {removing && (
        <ConfirmDialog
          title="Remove member"
          message={`Remove ${profileName(removing)} from ${title}? They will not receive the group's new messages.`}
          confirmLabel="Remove"
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            void dispatch({ type: "RemoveMember", chat_id: chat.chat_id, member: removing.pubkey });
            setRemoving(null);
          }}
        />
      )}
      {leaving && (
        <ConfirmDialog
          title="Leave group"
          message={`Leave ${title}? You will stop receiving its messages; its history stays here.`}
          confirmLabel="Leave"
          onCancel={() => setLeaving(false)}
          onConfirm={() => {
            void dispatch({ type: "LeaveGroup", chat_id: chat.chat_id });
            setLeaving(false);
          }}
        />
      )}
      {renaming && <RenameGroupDialog chat={chat} updating={updating} outcomes={outcomes} onClose={closeRename} />}
    </section>
  );
}

function AddMemberForm({ chat, me, updating, outcomes }: { chat: OpenChatState; me: string; updating: boolean; outcomes: RequestOutcome[] }) {
  const dispatch = useDispatch();
  const [input, setInput] = useState("");
  const [touched, setTouched] = useState(false);
  const [adding, setAdding] = useState(false);
  const [requestId, setRequestId] = useState<number | undefined>(undefined);
  const coreError = updating ? null : (outcomeOf(outcomes, requestId)?.error ?? null);

  const parsed = parseMemberInput(
    input,
    me,
    chat.members.map((member) => member.pubkey),
    "Already in this group",
  );
  const shownError = touched && input.trim() !== "" && !parsed.ok ? parsed.error : null;

  const add = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (!parsed.ok || updating || adding) return;
    setAdding(true);
    const id = newRequestId();
    setRequestId(id);
    const reply = await dispatch({ type: "AddMembers", chat_id: chat.chat_id, members: [parsed.pubkey], request_id: id });
    setAdding(false);
    if (reply.ok) {
      setInput("");
      setTouched(false);
    }
  };

  return (
    <form className="inline-form" onSubmit={(event) => void add(event)} noValidate>
      <Field
        label="Add member npub"
        kind="key"
        placeholder="npub1…"
        value={input}
        onChange={(value) => {
          setInput(value);
          setTouched(true);
        }}
        error={shownError}
        actionBelow
        action={
          <button type="submit" disabled={!parsed.ok || updating || adding}>
            Add to group
          </button>
        }
      />
      <FormFeedback busy={null} error={shownError ? null : coreError} />
    </form>
  );
}
