// The group inbox (kind 445): each event is opened under the group's epoch keys and processed by
// MLS. Messages are stored in the order written; commits move the group to its next epoch (the
// earliest of two rival commits wins); input of epochs we have not reached is held, bounded.
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import { toUserMessage } from "../../../shared/errors.js";
import { resumeFrom, type Batch } from "../../chats/receiveBatch.js";
import { groupCursorKey, type ChatRegistry } from "../../chats/registry.js";
import { insertSystemLine, insertSystemLines, type SystemLineData } from "../../chats/systemLines.js";
import {
  CHAT_MESSAGE_KIND,
  DELETION_KIND,
  EDIT_KIND,
  GROUP_EVENT_KIND,
  REACTION_KIND,
  changeTarget,
  compareCommitEvents,
  groupEventGroupId,
  processGroupMessage,
  readGroupData,
  receiveGroupEvent,
  type MarmotGroupData,
  type ReceivedGroupEvent,
} from "../../marmot/index.js";
import { MarmotError, describeError } from "../../marmot/errors.js";
import type { AccountContext } from "../../state/context.js";
import { HeldInput } from "./heldInput.js";

type Commit = Extract<Awaited<ReturnType<typeof processGroupMessage>>, { kind: "commit" }>;

export interface GroupInboxPorts {
  /** A member's own leave or update arrived in a group we administer (groups commits it). */
  proposalReceived(groupId: string): void;
  /** The open chat, whose new messages are read as they arrive (projection). */
  openChatId(): string | null;
}

export class GroupInbox {
  readonly held: HeldInput;

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
    private readonly ports: GroupInboxPorts,
    forget: (eventId: string) => void,
  ) {
    this.held = new HeldInput(ctx, forget);
  }

  filters(): Filter[] {
    return this.registry.ids().map((groupId) => {
      const stored = this.ctx.store.getMeta<number>(groupCursorKey(groupId)) ?? 0;
      // Input still waiting for its commit (held or refused) is fetched again: never resume past it.
      const cursor = Math.min(stored, this.held.issueFetch(groupId) ?? stored);
      return { kinds: [GROUP_EVENT_KIND], "#h": [groupId], since: resumeFrom(this.ctx, cursor) };
    });
  }

  /** Cursors of groups with input waiting for a commit: held at its oldest, so a restart fetches it again. */
  cursorFloors(): Array<[string, number]> {
    return this.held.floors().map(([groupId, floor]) => [groupCursorKey(groupId), floor]);
  }

  apply(event: Event, batch: Batch): Promise<void> {
    return this.applyEvent(event, batch);
  }

  private async applyEvent(event: Event, batch: Batch): Promise<void> {
    const groupId = groupEventGroupId(event);
    const group = this.registry.get(groupId);
    if (!group) return;
    if (this.registry.flags()[groupId]?.left) {
      // We left or were removed: the group is history, nothing new is read into it.
      batch.processed(event);
      return;
    }
    const before = group.state;
    let received: ReceivedGroupEvent;
    try {
      received = await receiveGroupEvent(group.state, group.keys, event);
    } catch (error) {
      if (error instanceof MarmotError && (error.code === "undecryptable" || error.code === "future_epoch")) {
        return this.held.hold(groupId, event, group.state.groupContext.epoch, batch);
      }
      throw error;
    }
    if (received.kind === "skipped" && group.branch && received.keyEpoch === group.branch.epoch && compareCommitEvents(event, group.branch.commit) < 0) {
      // Two commits for one epoch: the earliest (then the smallest id) wins, so our branch is rolled back.
      const lost = group.branch;
      const replay = await processGroupMessage(lost.before, received.message);
      if (replay.kind === "commit") {
        // The epoch's key cached so far is our lost branch's: the winner's replaces it.
        await group.keys.remember(replay.state);
        this.ctx.log({ event: "commit_race_rolled_back", chat: groupId.slice(0, 8), lost: lost.commit.id.slice(0, 12), won: event.id.slice(0, 12) });
        group.branch = { epoch: lost.epoch, before: lost.before, commit: event, ours: false };
        if (lost.ours) this.ctx.toast("info", toUserMessage("commit_race_lost"));
        return this.applyCommit(groupId, event, replay, readGroupData(lost.before), batch);
      }
    }
    if (received.kind === "commit") {
      group.branch = { epoch: before.groupContext.epoch, before, commit: event, ours: false };
      return this.applyCommit(groupId, event, received, readGroupData(before), batch);
    }
    group.state = received.state;
    batch.dirty(groupId);
    batch.processed(event);
    batch.cursor(groupCursorKey(groupId), event.created_at);
    if (received.kind === "application") this.storeMessage(groupId, received, batch);
    else if (received.kind === "proposal" && readGroupData(received.state).adminPubkeys.includes(this.ctx.keys.pubkey)) this.ports.proposalReceived(groupId);
  }

  /**
   * A chat message, reaction, edit or deletion, stored after the rest of the batch in the order it was
   * written. Edits and deletions count only from the author of their target (the projection checks
   * edits); a deletion erases the text at once, and a message or edit arriving after it is erased too.
   */
  private storeMessage(groupId: string, received: Extract<ReceivedGroupEvent, { kind: "application" }>, batch: Batch): void {
    const rumor = received.rumor;
    if (rumor.kind !== CHAT_MESSAGE_KIND && rumor.kind !== REACTION_KIND && rumor.kind !== EDIT_KIND && rumor.kind !== DELETION_KIND) return;
    const target = rumor.kind === EDIT_KIND || rumor.kind === DELETION_KIND ? changeTarget(rumor.tags) : null;
    if ((rumor.kind === EDIT_KIND || rumor.kind === DELETION_KIND) && !target) return;
    const mine = rumor.pubkey === this.ctx.keys.pubkey;
    const at = this.ctx.receivedAt(rumor.created_at);
    batch.insert([at, Number(received.epoch), received.generation], () => {
      const inserted = this.ctx.store.insertMessage({
        id: rumor.id,
        group_id: groupId,
        sender: rumor.pubkey,
        kind: rumor.kind,
        content: rumor.content,
        tags: rumor.tags,
        created_at: at,
        status: mine ? "sent" : "received",
      });
      if (!inserted) return;
      const store = this.ctx.store;
      if (rumor.kind === DELETION_KIND && target) {
        store.eraseMessage(groupId, target, rumor.pubkey);
        return;
      }
      if (rumor.kind === EDIT_KIND && target) {
        if (store.isDeleted(groupId, target, rumor.pubkey)) store.eraseMessage(groupId, target, rumor.pubkey);
        return;
      }
      if (rumor.kind === CHAT_MESSAGE_KIND && store.isDeleted(groupId, rumor.id, rumor.pubkey)) {
        store.eraseMessage(groupId, rumor.id, rumor.pubkey);
        return;
      }
      batch.announce({ type: "message_received", chat_id: groupId, message: { id: rumor.id, sender: rumor.pubkey, kind: rumor.kind, text: rumor.content, created_at: at, mine } });
      if (rumor.kind === CHAT_MESSAGE_KIND) {
        this.ctx.store.touchGroup(groupId, at);
        if (this.ports.openChatId() === groupId) this.ctx.store.markRead(groupId);
      }
    });
  }

  /** Someone's commit: new epoch, members and data; system lines for what changed; then held input is tried again. */
  private async applyCommit(groupId: string, event: Event, result: Commit, previous: MarmotGroupData, batch: Batch): Promise<void> {
    if (result.pathless) {
      // A v1 client on unpatched ts-mls: applied (refusing would fork us out of the group), but with
      // no fresh entropy a member this commit removed can still compute the new epoch.
      this.ctx.log({ event: "commit_without_path", chat: groupId.slice(0, 8), sender: result.sender.slice(0, 12), epoch: Number(result.epoch), removed: result.removed.length });
    }
    if (result.removedUs) {
      // Removed: keep the last state we had as history; nothing after this commit is ours to read.
      this.registry.setFlags(groupId, { left: true, removed_by: result.sender });
      batch.processed(event);
      batch.write(() => insertSystemLine(this.ctx, groupId, event, { type: "removed", actor: result.sender, targets: [this.ctx.keys.pubkey] }));
      return;
    }
    const store = await this.registry.adopt(groupId, result.state);
    const lines: SystemLineData[] = [];
    if (result.added.length > 0) lines.push({ type: "added", actor: result.sender, targets: result.added });
    const removedByAdmin = result.removed.filter((m) => !result.left.includes(m));
    if (removedByAdmin.length > 0) lines.push({ type: "removed", actor: result.sender, targets: removedByAdmin });
    if (result.left.length > 0) lines.push({ type: "left", actor: result.sender, targets: result.left });
    if (result.groupData.name !== previous.name) lines.push({ type: "renamed", actor: result.sender, name: result.groupData.name });
    batch.processed(event);
    batch.cursor(groupCursorKey(groupId), event.created_at);
    batch.write(() => {
      store();
      insertSystemLines(this.ctx, groupId, event, lines);
    });
    await this.retryHeld(groupId, batch);
  }

  /** After a commit: held events are tried again under the new epoch, and refused ones are due to be fetched again. */
  private async retryHeld(groupId: string, batch: Batch): Promise<void> {
    for (const event of this.held.release(groupId)) {
      try {
        await this.applyEvent(event, batch);
      } catch (error) {
        this.ctx.log({ event: "event_rejected", kind: event.kind, id: event.id.slice(0, 12), error: describeError(error) });
        this.held.count("rejected");
      }
    }
  }
}
