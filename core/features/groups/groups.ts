// Groups we administer or belong to: create, add, remove, rename, leave; and, for admins, committing
// the leaves members proposed. Every change goes through the common commit path.
import type { DispatchReply, GroupAction } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import { parsePubkeyInput } from "../../../shared/pubkeys.js";
import { CoreError } from "../../base/errors.js";
import type { ChosenKeyPackage, Commits } from "../../chats/commits.js";
import type { ChatRegistry, ClientState } from "../../chats/registry.js";
import { insertSystemLine, type SystemLineData } from "../../chats/systemLines.js";
import {
  GROUP_EVENT_KIND,
  addMembers,
  commitPending,
  groupMembers,
  proposeLeave,
  removeMembers,
  serializeGroupState,
  updateGroupData,
  wrapInEpoch,
  type CommitOutcome,
} from "../../marmot/index.js";
import { MarmotError, describeError } from "../../marmot/errors.js";
import type { AccountContext } from "../../state/context.js";
import { refuse, refuseWith, withBusy } from "../../state/requests.js";

/** Members per add commit: their Welcome must fit one gift wrap (~90 fit; PROTOCOL.md). */
const ADD_BATCH = 50;

export interface GroupPorts {
  keyPackageReady(): Promise<void>;
  openChat(chatId: string): DispatchReply;
  changed(): void;
}

export class Groups {
  private readonly pendingCommits = new Set<string>();

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
    private readonly commits: Commits,
    private readonly ports: GroupPorts,
  ) {}

  handle(action: GroupAction): DispatchReply {
    const request = action.request_id;
    if (action.type !== "CreateGroup" && !this.registry.has(action.chat_id)) return refuseWith(this.ctx, "chat_not_found", request);
    if (this.ctx.state().busy.updating_group) return refuseWith(this.ctx, "group_busy", request);
    let members: string[] = [];
    if (action.type === "CreateGroup" || action.type === "AddMembers") {
      for (const input of action.members) {
        const parsed = parsePubkeyInput(input);
        if (!parsed.ok) return refuse(this.ctx, `${input.slice(0, 20)}: ${parsed.error}`, request);
        if (parsed.pubkey !== this.ctx.keys.pubkey) members.push(parsed.pubkey);
      }
      members = [...new Set(members)];
      if (members.length === 0) return refuseWith(this.ctx, "no_members", request);
    }
    let work: () => Promise<string | null>;
    switch (action.type) {
      case "CreateGroup": {
        const admins = (action.admins ?? []).map((a) => parsePubkeyInput(a)).flatMap((a) => (a.ok ? [a.pubkey] : []));
        work = () => this.create(action.name, action.description, members, admins);
        break;
      }
      case "AddMembers":
        work = () => this.add(action.chat_id, members);
        break;
      case "RemoveMember": {
        const parsed = parsePubkeyInput(action.member);
        if (!parsed.ok) return refuse(this.ctx, parsed.error, request);
        work = () => this.change(action.chat_id, (state) => removeMembers(state, [parsed.pubkey]), { type: "removed", targets: [parsed.pubkey] });
        break;
      }
      case "RenameGroup":
        work = () => this.change(action.chat_id, (state) => updateGroupData(state, { name: action.name, description: action.description }), { type: "renamed", name: action.name });
        break;
      case "LeaveGroup":
        work = () => this.leave(action.chat_id);
        break;
    }
    return withBusy(this.ctx, {
      flag: "updating_group",
      kind: "group_update",
      work: () => work(),
      failure: "group_update_failed",
      requestId: request,
      done: (chatId) => (chatId ? this.ports.openChat(chatId) : this.ports.changed()),
    });
  }

  /** A member proposed their leave (or an update): as an admin we commit it once the batch is stored. */
  proposalReceived(groupId: string): void {
    this.pendingCommits.add(groupId);
  }

  /** Admins commit members' pending proposals (leaves) after each received batch. */
  commitPendingProposals(): void {
    const groups = [...this.pendingCommits];
    this.pendingCommits.clear();
    for (const groupId of groups) {
      void this.registry.mls
        .run(async () => {
          const group = this.registry.get(groupId);
          if (!group || !this.ctx.live()) return;
          const outcome = await commitPending(group.state);
          const after = new Set(groupMembers(outcome.state));
          const gone = groupMembers(group.state).filter((m) => !after.has(m));
          // The pending proposals are members' own leaves: they left, we only committed it.
          await this.commits.commit(groupId, outcome, { type: "left", targets: gone });
        })
        .catch((error: unknown) => this.ctx.log({ event: "commit_pending_failed", chat: groupId.slice(0, 8), error: describeError(error) }));
    }
  }

  /** A new group we administer: created with the first members that fit one Welcome, then the rest in further commits. */
  private async create(name: string, description: string, members: string[], admins: string[]): Promise<string> {
    await this.ports.keyPackageReady();
    const chosen = await Promise.all(members.map((peer) => this.commits.fetchKeyPackage(peer)));
    return this.registry.mls.run(async () => {
      const first = chosen.slice(0, ADD_BATCH);
      const { groupId, undelivered } = await this.commits.createGroup({
        members: first,
        kind: "group",
        name,
        description,
        admins,
        peer: null,
        line: { type: "created", targets: first.map((c) => c.pubkey), name },
        notAccepted: "change_not_accepted",
      });
      this.undelivered(undelivered.length);
      for (let i = ADD_BATCH; i < chosen.length; i += ADD_BATCH) await this.addChosen(groupId, chosen.slice(i, i + ADD_BATCH));
      this.ctx.log({ event: "group_created", chat: groupId.slice(0, 8), members: chosen.length + 1 });
      return groupId;
    });
  }

  private async add(groupId: string, members: string[]): Promise<string> {
    const group = this.registry.get(groupId);
    const missing = members.filter((m) => !group?.row.members.includes(m));
    if (missing.length === 0) throw new CoreError("already_members");
    const chosen = await Promise.all(missing.map((peer) => this.commits.fetchKeyPackage(peer)));
    await this.registry.mls.run(async () => {
      for (let i = 0; i < chosen.length; i += ADD_BATCH) await this.addChosen(groupId, chosen.slice(i, i + ADD_BATCH));
    });
    return groupId;
  }

  /** One commit adding these members (inside the MLS queue), then their Welcomes. */
  private async addChosen(groupId: string, chosen: ChosenKeyPackage[]): Promise<void> {
    const group = this.registry.require(groupId);
    let outcome: CommitOutcome;
    try {
      outcome = await addMembers(group.state, chosen.map((c) => c.keyPackage));
    } catch (error) {
      if (!(error instanceof MarmotError) || error.code !== "welcome_too_large") throw error;
      // The Welcome carries the whole ratchet tree and must fit one gift wrap: add fewer at a time.
      if (chosen.length === 1) throw new CoreError("group_too_large", String(group.row.members.length));
      const half = Math.ceil(chosen.length / 2);
      await this.addChosen(groupId, chosen.slice(0, half));
      await this.addChosen(groupId, chosen.slice(half));
      return;
    }
    await this.commits.commit(groupId, outcome, { type: "added", targets: chosen.map((c) => c.pubkey) });
    if (outcome.welcome) this.undelivered((await this.commits.sendWelcomes(outcome.welcome, chosen, this.registry.publishRelays(group.row))).length);
  }

  /** An admin's change of the group (remove, rename): one commit, published, then adopted. */
  private async change(groupId: string, make: (state: ClientState) => Promise<CommitOutcome>, line: SystemLineData): Promise<string> {
    await this.registry.mls.run(async () => {
      const outcome = await make(this.registry.require(groupId).state);
      await this.commits.commit(groupId, outcome, line);
    });
    return groupId;
  }

  /** Leaving: a remove proposal for ourselves (an admin commits it), and the chat stays as history. */
  private async leave(groupId: string): Promise<null> {
    await this.registry.mls.run(async () => {
      const group = this.registry.require(groupId);
      const proposal = await proposeLeave(group.state);
      const event = await wrapInEpoch(group.state, group.keys, proposal.message, this.ctx.now());
      this.ctx.store.markProcessed(event.id, GROUP_EVENT_KIND, this.ctx.now());
      const published = await this.ctx.pool.publish(event, this.registry.publishRelays(group.row));
      if (published.accepted.length === 0) throw new CoreError("leave_failed", published.failed[0]?.reason ?? "no relay accepted it");
      group.state = proposal.state;
      this.ctx.store.transaction(() => {
        this.ctx.store.updateGroupState(groupId, serializeGroupState(proposal.state), Number(proposal.state.groupContext.epoch));
        insertSystemLine(this.ctx, groupId, event, { type: "left", actor: this.ctx.keys.pubkey, targets: [this.ctx.keys.pubkey] });
      });
    });
    this.registry.setFlags(groupId, { left: true, removed_by: undefined });
    return null;
  }

  private undelivered(count: number): void {
    if (count > 0) this.ctx.toast("error", toUserMessage("invites_not_delivered", String(count)));
  }
}
