// Joining a group from a Welcome: with the KeyPackage it names (or any we still hold), and whether
// it is a new membership of a group we hold only as history. Shared by invites and the gift-wrap inbox.
import { deserializeKeyPackageBundle, joinFromWelcome, type KeyPackageBundle, type MarmotGroupData } from "../marmot/index.js";
import type { AccountContext } from "../state/context.js";
import type { ChatRegistry, ClientState } from "./registry.js";

export interface Joined {
  state: ClientState;
  groupData: MarmotGroupData;
  /** The ref of our KeyPackage the Welcome used: it is rotated. */
  ref: string;
}

/** The private bundle of one of our KeyPackages, by the id of an event that carried it. */
function bundleForEvent(ctx: AccountContext, eventId: string): { ref: string; bundle: KeyPackageBundle } | null {
  const row = ctx.store.findKeyPackageByEventId(eventId);
  return row ? { ref: row.ref, bundle: deserializeKeyPackageBundle(row.private) } : null;
}

/** Every bundle we still hold, newest first: Welcomes without an `e` tag are tried against these. */
function activeBundles(ctx: AccountContext): Array<{ ref: string; bundle: KeyPackageBundle }> {
  return ctx.store
    .listActiveKeyPackages()
    .reverse()
    .map((row) => ({ ref: row.ref, bundle: deserializeKeyPackageBundle(row.private) }));
}

/** Joins with the KeyPackage the Welcome names, else any we hold; null when none of ours fits. */
export async function joinWelcome(
  ctx: AccountContext,
  welcome: Parameters<typeof joinFromWelcome>[0],
  keyPackageEventId: string,
  inviter: string,
): Promise<Joined | null> {
  const byEvent = keyPackageEventId ? bundleForEvent(ctx, keyPackageEventId) : null;
  const candidates = byEvent ? [byEvent] : activeBundles(ctx);
  for (const { ref, bundle } of candidates) {
    try {
      const joined = await joinFromWelcome(welcome, bundle, inviter);
      return { ...joined, ref };
    } catch (error) {
      if (byEvent) throw error;
    }
  }
  return null;
}

/**
 * A Welcome into a group we hold only as history (we left or were removed) to an epoch past the one
 * we stopped at is a new membership. One for a group we are in, or an old one replayed, is not.
 */
export function isNewMembership(registry: ChatRegistry, groupId: string, joined: ClientState): boolean {
  const known = registry.get(groupId);
  return known !== undefined && registry.flags()[groupId]?.left === true && joined.groupContext.epoch > known.state.groupContext.epoch;
}
