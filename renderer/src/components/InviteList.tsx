import { useId, useState } from "react";
import type { InviteSummary } from "../../../shared/state";
import { profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";

/** Pending Welcomes. An answered invite stays disabled until the core removes it, or re-enabled if refused. */
export function InviteList({ invites }: { invites: InviteSummary[] }) {
  const dispatch = useDispatch();
  const headingId = useId();
  const [answering, setAnswering] = useState<ReadonlySet<string>>(new Set());

  const answer = async (type: "AcceptInvite" | "DeclineInvite", inviteId: string): Promise<void> => {
    setAnswering((ids) => new Set(ids).add(inviteId));
    const reply = await dispatch({ type, invite_id: inviteId });
    if (!reply.ok) {
      setAnswering((ids) => {
        const next = new Set(ids);
        next.delete(inviteId);
        return next;
      });
    }
  };

  return (
    <section className="invites" aria-labelledby={headingId}>
      <h3 id={headingId} className="pane-subheading">
        Invites
      </h3>
      <ul role="list" aria-label="Invites" className="plain-list invite-list">
        {invites.map((invite) => {
          const from = profileName(invite.from);
          const busy = answering.has(invite.id);
          return (
            <li key={invite.id} className="invite">
              <p className="invite-text">
                <strong title={invite.from.npub}>{from}</strong> invited you to <strong>{invite.group_name}</strong>
              </p>
              <div className="row">
                <button
                  type="button"
                  className="primary"
                  disabled={busy}
                  aria-label={`Accept invite from ${from}`}
                  onClick={() => void answer("AcceptInvite", invite.id)}
                >
                  Accept
                </button>
                <button
                  type="button"
                  disabled={busy}
                  aria-label={`Decline invite from ${from}`}
                  onClick={() => void answer("DeclineInvite", invite.id)}
                >
                  Decline
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
