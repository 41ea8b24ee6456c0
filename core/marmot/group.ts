/**
 * MLS group operations for Marmot (MIP-01, MIP-03) on ts-mls: creating a group,
 * adding and removing members, joining from a Welcome, encrypting rumors and
 * processing incoming MLS messages under Marmot's rules (groupPolicy.ts), and
 * state storage.
 *
 * States are immutable values: every operation returns the next state and the
 * caller decides when to adopt it. A commit we create must be published (wrapped
 * with the key of `previousState`'s epoch) and acknowledged by a relay before
 * `state` is adopted and before any Welcome is sent (MIP-02, MIP-03).
 */
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import {
  clientStateDecoder,
  clientStateEncoder,
  contentTypes,
  createApplicationMessage,
  createCommit,
  createGroup as mlsCreateGroup,
  createProposal,
  decode,
  defaultCredentialTypes,
  defaultExtensionTypes,
  defaultProposalTypes,
  encode,
  joinGroup,
  nodeTypes,
  processMessage,
  wireformats,
  type AuthenticationService,
  type ClientState,
  type KeyPackage,
  type MlsContext,
  type MlsFramedMessage,
  type ClientConfig,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  type MlsMessage,
  type MlsWelcomeMessage,
  type Proposal,
} from "ts-mls";
import { getEventHash } from "nostr-tools/pure";
import { DEFAULT_CIPHERSUITE, getCiphersuite } from "./cryptoProvider.js";
import { MarmotError, describeError } from "./errors.js";
import { MARMOT_GROUP_DATA_EXTENSION_TYPE, groupDataExtension, newGroupData, readGroupData, type MarmotGroupData } from "./groupData.js";
import { changedIdentity, identityAt, leafIdentities, reviewer, type Review } from "./groupPolicy.js";
import { LAST_RESORT_EXTENSION_TYPE, credentialPubkey, generateKeyPackage, type KeyPackageBundle } from "./keyPackage.js";
import { parseRumor, serializeRumor, type Rumor } from "./rumor.js";
import { leafCredential, privateMessageSender } from "./senderData.js";
import { assertWelcomeFits } from "./welcome.js";

/** MIP-00 credential policy: a BasicCredential whose identity is a raw 32-byte key. */
export const marmotAuthService: AuthenticationService = {
  async validateCredential(credential) {
    return credential.credentialType === defaultCredentialTypes.basic && "identity" in credential && credential.identity.length === 32;
  },
};

/**
 * Relays return a backlog in no particular order within a second, so a catch-up may read a sender's
 * messages far out of order: keep skipped message keys for many generations (ts-mls keeps 10), and
 * allow a long forward ratchet (200 by default) for a night's worth of messages.
 */
const clientConfig: ClientConfig = {
  keyRetentionConfig: { ...defaultKeyRetentionConfig, retainKeysForGenerations: 2_000, maximumForwardRatchetSteps: 20_000 },
  lifetimeConfig: defaultLifetimeConfig,
  keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
  paddingConfig: defaultPaddingConfig,
};

async function mlsContext(cipherSuite: number): Promise<MlsContext> {
  return { cipherSuite: await getCiphersuite(cipherSuite), authService: marmotAuthService, externalPsks: {}, clientConfig };
}

function mlsFailure(what: string, error: unknown): MarmotError {
  if (error instanceof MarmotError) return error;
  return new MarmotError("mls_rejected", `${what}: ${describeError(error)}`, { cause: error });
}

/** Hex pubkeys of the group's members, in leaf order (a pubkey repeats for several devices). */
export function groupMembers(state: ClientState): string[] {
  return leafIdentities(state.ratchetTree).map(([, pubkey]) => pubkey);
}

/** Our own Nostr pubkey in this group (our leaf's credential identity). */
export function ownPubkey(state: ClientState): string {
  const credential = leafCredential(state.ratchetTree, state.privatePath.leafIndex);
  if (credential === undefined) throw new MarmotError("mls_rejected", "Our leaf is not in the group");
  return credentialPubkey(credential);
}

export function groupEpoch(state: ClientState): bigint {
  return state.groupContext.epoch;
}

/** Hex MLS group id: private, never published (the `h` tag uses nostr_group_id). */
export function mlsGroupIdHex(state: ClientState): string {
  return bytesToHex(state.groupContext.groupId);
}

export function isAdmin(state: ClientState, pubkey: string): boolean {
  return readGroupData(state).adminPubkeys.includes(pubkey.toLowerCase());
}

/** A commit we made. Publish `commit` first; adopt `state` and send Welcomes only after a relay accepted it. */
export interface CommitOutcome {
  /** The state after the commit. */
  state: ClientState;
  /** The state the commit was made from: its epoch's group-event key wraps the commit. */
  previousState: ClientState;
  commit: MlsFramedMessage;
  /** Present when members were added: gift-wrap it to each of them. */
  welcome: MlsWelcomeMessage | undefined;
}

export interface CreateGroupInput {
  /** Our Nostr pubkey; admin of the new group. */
  creatorPubkey: string;
  /** Our KeyPackage for the creator's leaf; a fresh one is generated when omitted. */
  creatorKeyPackage?: KeyPackageBundle;
  /** Validated KeyPackages of the members to add (see keyPackage.ts `parseKeyPackageEvent`). */
  members: KeyPackage[];
  name: string;
  description?: string;
  relays: string[];
  /** Default: the creator only. The creator is always included. */
  adminPubkeys?: string[];
  /** Default 0x0001. */
  ciphersuite?: number;
}

export interface CreatedGroup extends Omit<CommitOutcome, "commit"> {
  groupData: MarmotGroupData;
  /** Undefined when the group was created without members (the epoch-0 creation is never published). */
  commit: MlsFramedMessage | undefined;
}

/**
 * Creates a group with marmot_group_data, required_capabilities (0xF2EE, basic
 * credentials) and a random private MLS group id, then adds `members` in one
 * private commit carrying the ratchet tree. Throws `welcome_too_large` before
 * returning anything publishable when the Welcome cannot be gift-wrapped.
 */
export async function createGroup(input: CreateGroupInput): Promise<CreatedGroup> {
  const creator = input.creatorPubkey.toLowerCase();
  const ciphersuite = input.ciphersuite ?? DEFAULT_CIPHERSUITE;
  const bundle = input.creatorKeyPackage ?? (await generateKeyPackage(creator, { ciphersuite }));
  if (credentialPubkey(bundle.publicPackage.leafNode.credential) !== creator) {
    throw new MarmotError("identity_mismatch", "The creator KeyPackage belongs to another pubkey");
  }
  const groupData = newGroupData({
    name: input.name,
    description: input.description,
    adminPubkeys: [creator, ...(input.adminPubkeys ?? [])],
    relays: input.relays,
  });
  const context = await mlsContext(ciphersuite);
  let initial: ClientState;
  try {
    initial = await mlsCreateGroup({
      context,
      groupId: randomBytes(32),
      keyPackage: bundle.publicPackage,
      privateKeyPackage: bundle.privatePackage,
      extensions: [
        groupDataExtension(groupData),
        {
          extensionType: defaultExtensionTypes.required_capabilities,
          extensionData: { extensionTypes: [MARMOT_GROUP_DATA_EXTENSION_TYPE], proposalTypes: [], credentialTypes: [defaultCredentialTypes.basic] },
        },
      ],
    });
  } catch (error) {
    throw mlsFailure("Cannot create the group", error);
  }
  if (input.members.length === 0) return { state: initial, previousState: initial, commit: undefined, welcome: undefined, groupData };
  const added = await addMembers(initial, input.members);
  return { ...added, groupData };
}

function checkInvitee(state: ClientState, keyPackage: KeyPackage): void {
  const who = (() => {
    try {
      return credentialPubkey(keyPackage.leafNode.credential);
    } catch {
      return "unknown";
    }
  })();
  if (keyPackage.cipherSuite !== state.groupContext.cipherSuite) {
    throw new MarmotError("invalid_key_package", `KeyPackage of ${who} uses ciphersuite ${keyPackage.cipherSuite}, the group ${state.groupContext.cipherSuite}`);
  }
  for (const required of [MARMOT_GROUP_DATA_EXTENSION_TYPE, LAST_RESORT_EXTENSION_TYPE]) {
    if (!keyPackage.leafNode.capabilities.extensions.includes(required)) {
      throw new MarmotError("invalid_key_package", `KeyPackage of ${who} does not support extension 0x${required.toString(16).padStart(4, "0")}`);
    }
  }
}

function assertOwnAdmin(state: ClientState): MarmotGroupData {
  const groupData = readGroupData(state);
  if (!groupData.adminPubkeys.includes(ownPubkey(state))) throw new MarmotError("not_allowed", "Only group admins can commit this change");
  return groupData;
}

/**
 * RFC 9420 §12.4 (IANA "Path Required"): a commit with no proposals, or with any but Add, PSK and
 * ReInit (Update, Remove, GroupContextExtensions, external_init), must carry an UpdatePath, or a
 * removed member can still derive the next epoch.
 */
function pathRequired(proposals: readonly Proposal[]): boolean {
  const exempt: number[] = [defaultProposalTypes.add, defaultProposalTypes.psk, defaultProposalTypes.reinit];
  return proposals.length === 0 || proposals.some((proposal) => !exempt.includes(proposal.proposalType));
}

/** ts-mls commits every pending proposal along with `proposals`, unless `withPending` is false. */
async function commitProposals(state: ClientState, proposals: Proposal[], withPending = true): Promise<CommitOutcome> {
  const from = withPending ? state : { ...state, unappliedProposals: {} };
  let outcome: CommitOutcome;
  try {
    const result = await createCommit({
      context: await mlsContext(state.groupContext.cipherSuite),
      state: from,
      extraProposals: proposals,
      ratchetTreeExtension: true,
      wireAsPublicMessage: false,
    });
    outcome = { state: result.newState, previousState: state, commit: result.commit, welcome: result.welcome };
  } catch (error) {
    throw mlsFailure("Cannot create the commit", error);
  }
  // A path replaces our leaf's HPKE key. Unchanged means the ts-mls patch (patches/) is not
  // installed: refuse rather than publish a commit a removed member could read past.
  const all = [...Object.values(from.unappliedProposals).map((item) => item.proposal), ...proposals];
  if (pathRequired(all) && !leafKeyChanged(state, outcome.state)) {
    throw new MarmotError("mls_rejected", "This commit needs an UpdatePath but ts-mls made none: install its patch (patches/README.md)");
  }
  return outcome;
}

function leafKeyChanged(before: ClientState, after: ClientState): boolean {
  const nodeIndex = before.privatePath.leafIndex * 2;
  const [a, b] = [before.ratchetTree[nodeIndex], after.ratchetTree[nodeIndex]];
  if (a?.nodeType !== nodeTypes.leaf || b?.nodeType !== nodeTypes.leaf) return true;
  return bytesToHex(a.leaf.hpkePublicKey) !== bytesToHex(b.leaf.hpkePublicKey);
}

/** Admin only: one commit adding every KeyPackage. Throws `welcome_too_large` when the Welcome would not fit a gift wrap. */
export async function addMembers(state: ClientState, keyPackages: KeyPackage[]): Promise<CommitOutcome> {
  const groupData = assertOwnAdmin(state);
  if (keyPackages.length === 0) throw new MarmotError("mls_rejected", "No KeyPackage to add");
  for (const keyPackage of keyPackages) checkInvitee(state, keyPackage);
  const outcome = await commitProposals(
    state,
    keyPackages.map((keyPackage) => ({ proposalType: defaultProposalTypes.add, add: { keyPackage } })),
  );
  if (outcome.welcome === undefined) throw new MarmotError("mls_rejected", "The add commit produced no Welcome");
  assertWelcomeFits(outcome.welcome, { senderPubkey: ownPubkey(state), relays: groupData.relays });
  return outcome;
}

function removeProposals(state: ClientState, pubkeys: string[]): Proposal[] {
  const targets = new Set(pubkeys.map((key) => key.toLowerCase()));
  if (targets.has(ownPubkey(state))) throw new MarmotError("not_allowed", "An MLS member cannot commit its own removal");
  const leaves = leafIdentities(state.ratchetTree).filter(([, pubkey]) => targets.has(pubkey));
  if (leaves.length === 0) throw new MarmotError("mls_rejected", "None of these pubkeys is a member");
  return leaves.map(([leafIndex]) => ({ proposalType: defaultProposalTypes.remove, remove: { removed: leafIndex } }));
}

export type GroupDataChanges = Partial<Pick<MarmotGroupData, "name" | "description" | "adminPubkeys" | "relays">>;

/** The nostr_group_id stays, so the group's `h` tag does not change. */
function groupDataProposal(state: ClientState, current: MarmotGroupData, changes: GroupDataChanges): Proposal {
  const next: MarmotGroupData = { ...current, ...changes };
  const extensions = state.groupContext.extensions.map((extension) =>
    extension.extensionType === MARMOT_GROUP_DATA_EXTENSION_TYPE ? groupDataExtension(next) : extension,
  );
  return { proposalType: defaultProposalTypes.group_context_extensions, groupContextExtensions: { extensions } } as Proposal;
}

/** Admin only: one commit removing every leaf of each pubkey. */
export async function removeMembers(state: ClientState, pubkeys: string[]): Promise<CommitOutcome> {
  assertOwnAdmin(state);
  return commitProposals(state, removeProposals(state, pubkeys));
}

/** Admin only: a commit replacing the group's marmot_group_data (rename, description, admins, relays). */
export async function updateGroupData(state: ClientState, changes: GroupDataChanges): Promise<CommitOutcome> {
  const current = assertOwnAdmin(state);
  return commitProposals(state, [groupDataProposal(state, current, changes)]);
}

/** Admin only: one commit removing these members and changing marmot_group_data (e.g. remove and rename). */
export async function removeMembersAndUpdateGroupData(state: ClientState, pubkeys: string[], changes: GroupDataChanges): Promise<CommitOutcome> {
  const current = assertOwnAdmin(state);
  return commitProposals(state, [...removeProposals(state, pubkeys), groupDataProposal(state, current, changes)]);
}

/** Admin only: commits the proposals members sent (e.g. their leave proposals), and nothing else. */
export async function commitPending(state: ClientState): Promise<CommitOutcome> {
  assertOwnAdmin(state);
  return commitProposals(state, []);
}

/**
 * Any member: a commit that refreshes our leaf's key material (forward secrecy,
 * MIP-03 self-update). An admin's also commits pending proposals (such as
 * members' leave requests); a non-admin's carries nothing else, as MIP-03 requires.
 */
export async function selfUpdate(state: ClientState): Promise<CommitOutcome> {
  return commitProposals(state, [], isAdmin(state, ownPubkey(state)));
}

/**
 * A proposal to remove our own leaf (MLS forbids committing it ourselves); an
 * admin's next commit applies it. Publish the message wrapped with the current
 * epoch's key and adopt the returned state.
 */
export async function proposeLeave(state: ClientState): Promise<{ state: ClientState; message: MlsFramedMessage }> {
  try {
    const result = await createProposal({
      context: await mlsContext(state.groupContext.cipherSuite),
      state,
      proposal: { proposalType: defaultProposalTypes.remove, remove: { removed: state.privatePath.leafIndex } },
      wireAsPublicMessage: false,
    });
    return { state: result.newState, message: result.message };
  } catch (error) {
    throw mlsFailure("Cannot create the leave proposal", error);
  }
}

export interface JoinedGroup {
  state: ClientState;
  groupData: MarmotGroupData;
}

/**
 * Joins from a Welcome with the KeyPackage it was addressed to. The group must
 * carry marmot_group_data and `inviterPubkey` (the gift wrap's seal signer),
 * when given, must be a member.
 */
export async function joinFromWelcome(welcome: MlsWelcomeMessage, bundle: KeyPackageBundle, inviterPubkey?: string): Promise<JoinedGroup> {
  if (welcome.welcome.cipherSuite !== bundle.publicPackage.cipherSuite) {
    throw new MarmotError("invalid_welcome", "The Welcome's ciphersuite is not our KeyPackage's");
  }
  let state: ClientState;
  try {
    state = await joinGroup({
      context: await mlsContext(welcome.welcome.cipherSuite),
      welcome: welcome.welcome,
      keyPackage: bundle.publicPackage,
      privateKeys: bundle.privatePackage,
    });
  } catch (error) {
    throw new MarmotError("invalid_welcome", `Cannot join from this Welcome with this KeyPackage: ${describeError(error)}`, { cause: error });
  }
  const groupData = readGroupData(state);
  if (inviterPubkey !== undefined && !groupMembers(state).includes(inviterPubkey.toLowerCase())) {
    throw new MarmotError("identity_mismatch", "The Welcome was sent by someone who is not a member of the group");
  }
  return { state, groupData };
}

/**
 * Encrypts `rumor` as an MLS application message. The rumor must be ours
 * (pubkey = our credential identity), have a correct id and no `h` tag (MIP-03:
 * nothing that identifies the group if it leaks).
 */
export async function encryptRumor(state: ClientState, rumor: Rumor): Promise<{ state: ClientState; message: MlsFramedMessage }> {
  if (rumor.pubkey !== ownPubkey(state)) throw new MarmotError("identity_mismatch", "A rumor must be authored by our own pubkey");
  if (getEventHash(rumor) !== rumor.id) throw new MarmotError("invalid_event", "Rumor id is not the hash of its fields");
  if (rumor.tags.some((tag) => tag[0] === "h")) throw new MarmotError("invalid_event", "A group rumor must not carry an h tag");
  try {
    const result = await createApplicationMessage({
      context: await mlsContext(state.groupContext.cipherSuite),
      state,
      message: new TextEncoder().encode(serializeRumor(rumor)),
    });
    return { state: result.newState, message: result.message };
  } catch (error) {
    throw mlsFailure("Cannot encrypt the message", error);
  }
}

/** What an incoming MLS message did. Adopt `state` (unchanged for `skipped`). */
export type ProcessedMessage =
  | { kind: "application"; state: ClientState; rumor: Rumor; sender: string; epoch: bigint; generation: number }
  | {
      kind: "commit";
      state: ClientState;
      sender: string;
      /** The epoch the commit created. */
      epoch: bigint;
      added: string[];
      removed: string[];
      /** Those of `removed` who proposed their own removal (they left; the committer only committed it). */
      left: string[];
      groupData: MarmotGroupData;
      /**
       * The commit removed us: keep the state only as history. `state` is then our last epoch
       * (marked removed): a removed member is on no UpdatePath and cannot derive the next one.
       */
      removedUs: boolean;
      /**
       * It lacks the UpdatePath RFC 9420 §12.4 requires (v1 clients on unpatched ts-mls send such
       * commits). Applied, since refusing would fork us out of their groups, but it carries no
       * fresh entropy: a member it removed can still compute the new epoch. Log it.
       */
      pathless: boolean;
    }
  | { kind: "proposal"; state: ClientState; sender: string; proposalType: number }
  /**
   * Nothing to apply. `past_epoch_handshake`: a commit or proposal of an epoch
   * we left. `own_message`: one we sent (its relay echo; MLS cannot decrypt
   * its own messages). An own commit we have not adopted yet means a relay
   * stored it: adopt the CommitOutcome we kept for it.
   */
  | { kind: "skipped"; state: ClientState; reason: "past_epoch_handshake" | "own_message" };

/**
 * Processes an incoming MLS message (from groupEvents.ts `unwrapGroupEvent`):
 * - application: decrypts the rumor and checks its pubkey is the MLS sender's identity;
 * - commit: applies it under the admin policy and returns the new epoch;
 * - proposal: stores it for a later commit.
 * Throws `future_epoch` for a message of an epoch not reached yet (retry after
 * the commits before it), `identity_mismatch`, `not_allowed` or `mls_rejected`.
 * Our own messages of the current epoch come back as `skipped`; skipping our
 * own event ids before unwrapping saves the work.
 */
export async function processGroupMessage(state: ClientState, message: MlsMessage): Promise<ProcessedMessage> {
  if (message.wireformat !== wireformats.mls_private_message && message.wireformat !== wireformats.mls_public_message) {
    throw new MarmotError("mls_rejected", `Unexpected MLS wire format ${message.wireformat} in a group event`);
  }
  const epoch = message.wireformat === wireformats.mls_private_message ? message.privateMessage.epoch : message.publicMessage.content.epoch;
  const current = state.groupContext.epoch;
  if (epoch > current) throw new MarmotError("future_epoch", `Message of epoch ${epoch}, we are at ${current}`);
  const isApplication = message.wireformat === wireformats.mls_private_message && message.privateMessage.contentType === contentTypes.application;
  if (epoch < current && !isApplication) return { kind: "skipped", state, reason: "past_epoch_handshake" };

  const context = await mlsContext(state.groupContext.cipherSuite);
  const ownMessage = async (): Promise<boolean> =>
    message.wireformat === wireformats.mls_private_message &&
    (await privateMessageSender(state, message.privateMessage, context.cipherSuite))?.leafIndex === state.privatePath.leafIndex;
  // An application message names its sender in ts-mls' result (which cannot open our own: it fails,
  // and is skipped below); a private commit or proposal of ours must be skipped before processing.
  if (!isApplication && (await ownMessage())) return { kind: "skipped", state, reason: "own_message" };

  const review: Review = { kind: undefined, sender: undefined, proposals: [], refusal: undefined, missingPath: false };
  let result;
  try {
    result = await processMessage({ context, state, message, callback: reviewer(state, () => readGroupData(state).adminPubkeys, review) });
  } catch (error) {
    if (isApplication && (await ownMessage())) return { kind: "skipped", state, reason: "own_message" };
    throw mlsFailure("Cannot process the group message", error);
  }

  if (result.kind === "applicationMessage") {
    const { leafIndex, generation } = result.sender;
    if (leafIndex === state.privatePath.leafIndex) return { kind: "skipped", state, reason: "own_message" };
    const tree = epoch === current ? state.ratchetTree : state.historicalReceiverData.get(epoch)?.ratchetTree;
    const applicationSender = tree === undefined ? undefined : identityAt(tree, leafIndex);
    if (applicationSender === undefined) throw new MarmotError("mls_rejected", "Cannot identify the sender of the message");
    const rumor = parseRumor(new TextDecoder().decode(result.message));
    if (rumor.pubkey !== applicationSender) {
      throw new MarmotError("identity_mismatch", `Rumor pubkey ${rumor.pubkey.slice(0, 12)} is not its MLS sender ${applicationSender.slice(0, 12)}`);
    }
    return { kind: "application", state: result.newState, rumor, sender: applicationSender, epoch, generation };
  }

  if (result.actionTaken === "reject") throw new MarmotError("not_allowed", `Rejected ${review.kind ?? "message"}: ${review.refusal ?? "policy"}`);
  const newState = result.newState;
  if (review.kind === "proposal") {
    return { kind: "proposal", state: newState, sender: review.sender ?? "", proposalType: review.proposals[0]?.proposal.proposalType ?? 0 };
  }

  const removedLeaves = new Set(
    review.proposals.flatMap((item) => (item.proposal.proposalType === defaultProposalTypes.remove && "remove" in item.proposal ? [item.proposal.remove.removed] : [])),
  );
  if (changedIdentity(state.ratchetTree, newState.ratchetTree, removedLeaves)) {
    throw new MarmotError("not_allowed", "Rejected commit: it changes a member's identity");
  }
  let groupData: MarmotGroupData;
  try {
    groupData = readGroupData(newState);
  } catch (error) {
    throw new MarmotError("not_allowed", `Rejected commit: ${describeError(error)}`, { cause: error });
  }
  return {
    kind: "commit",
    state: newState,
    sender: review.sender ?? "",
    epoch: newState.groupContext.epoch,
    added: review.proposals.flatMap((item) => ("add" in item.proposal ? [credentialPubkey(item.proposal.add.keyPackage.leafNode.credential)] : [])),
    removed: [...removedLeaves].flatMap((leafIndex) => {
      const pubkey = identityAt(state.ratchetTree, leafIndex);
      return pubkey === undefined ? [] : [pubkey];
    }),
    left: review.proposals.flatMap((item) => {
      if (item.proposal.proposalType !== defaultProposalTypes.remove || !("remove" in item.proposal) || item.senderLeafIndex !== item.proposal.remove.removed) return [];
      const pubkey = identityAt(state.ratchetTree, item.senderLeafIndex);
      return pubkey === undefined ? [] : [pubkey];
    }),
    groupData,
    removedUs: newState.groupActiveState.kind === "removedFromGroup",
    pathless: review.missingPath,
  };
}

/** Bytes for storage (secret: holds the group's keys). ts-mls' own TLS encoding of ClientState. */
export function serializeGroupState(state: ClientState): Uint8Array {
  return encode(clientStateEncoder, state);
}

export function deserializeGroupState(bytes: Uint8Array): ClientState {
  let state: ClientState | undefined;
  try {
    state = decode(clientStateDecoder, bytes);
  } catch (error) {
    throw new MarmotError("corrupt_storage", `Stored group state is unreadable: ${describeError(error)}`, { cause: error });
  }
  if (state === undefined) throw new MarmotError("corrupt_storage", "Stored group state is unreadable");
  return state;
}
