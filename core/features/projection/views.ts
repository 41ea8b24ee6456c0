// How stored rows read in the state: names, system lines and reactions.
import { shortNpub } from "../../../shared/pubkeys.js";
import type { MessageView, ProfileView } from "../../../shared/state.js";
import type { SystemLineData } from "../../chats/systemLines.js";
import type { MessageRow } from "../../storage/accountStore.js";

/** A person's name for lines and titles: "You" for us, their profile name, else their short npub. */
export function nameOf(profile: (pubkey: string) => ProfileView, me: string, pubkey: string | undefined): string {
  if (!pubkey) return "Someone";
  if (pubkey === me) return "You";
  const p = profile(pubkey);
  return p.name ?? shortNpub(p.npub);
}

export function systemText(line: SystemLineData, me: string, name: (pubkey: string | undefined) => string): string {
  const actor = name(line.actor);
  const targets = (line.targets ?? []).map((t) => (t === me ? "you" : name(t))).join(", ");
  switch (line.type) {
    case "created":
      return `${actor} created the group${line.name ? ` “${line.name}”` : ""}${targets ? ` with ${targets}` : ""}`;
    case "added":
      return `${actor} added ${targets}`;
    case "removed":
      if (line.targets?.length === 1 && line.targets[0] === line.actor) return `${actor} left`;
      if (line.targets?.length === 1 && line.targets[0] === me) return `You were removed by ${name(line.actor)}`;
      return `${actor} removed ${targets}`;
    case "renamed":
      return `${actor} renamed the group to “${line.name ?? ""}”`;
    case "left": {
      // Who left is the target; the actor only committed their leave (lines stored before had no targets).
      const leavers = line.targets && line.targets.length > 0 ? line.targets : line.actor ? [line.actor] : [];
      if (leavers.length === 1 && leavers[0] === me) return "You left the group";
      return `${leavers.map((t) => name(t)).join(", ") || "Someone"} left`;
    }
  }
}

/** Reactions to one message, one per sender and emoji. */
export function reactionViews(reactions: MessageRow[], me: string): MessageView["reactions"] {
  const byEmoji = new Map<string, { count: number; mine: boolean; senders: Set<string> }>();
  for (const r of reactions) {
    const entry = byEmoji.get(r.content) ?? { count: 0, mine: false, senders: new Set<string>() };
    if (entry.senders.has(r.sender)) continue;
    entry.senders.add(r.sender);
    entry.count += 1;
    entry.mine ||= r.sender === me;
    byEmoji.set(r.content, entry);
  }
  return [...byEmoji].map(([emoji, e]) => ({ emoji, count: e.count, mine: e.mine }));
}
