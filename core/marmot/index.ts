/**
 * Burrow's Marmot protocol layer: MLS (RFC 9420, via ts-mls) groups over Nostr,
 * interoperable with marmot-ts, White Noise and Pika. Plain Node; no Electron.
 *
 * Flow, with one EpochKeyCache per group:
 * - publish our KeyPackage: generateKeyPackage → keyPackageEventTemplates → signEvent (both 443 and 30443);
 * - invite: selectKeyPackage(their events) → createGroup / addMembers → wrapCommit → publish,
 *   on acceptance adopt `state`, then welcomeRumor + giftWrap per new member;
 * - be invited: readWelcome(gift wrap) → joinFromWelcome(welcome, our bundle, sender);
 * - chat: chatMessageRumor → sendRumor → publish; receiveGroupEvent for each kind 445 we did not send.
 * Persist serializeGroupState(state) and cache.serialize() together, as secrets.
 */

/** Schnorr signing/verification of Nostr events (wasm with a JS fallback). */
export {
  copyEvent,
  generateSecretKey,
  getPublicKey,
  initNostrCrypto,
  nostrCryptoBackend,
  signEvent,
  verifySignature,
  type EventTemplate,
  type NostrCryptoBackend,
  type NostrEvent,
} from "./nostrCrypto.js";

/** Signature checks and signing of batches in worker threads, answered in order; events it found good are not checked again. */
export {
  CryptoPool,
  defaultPoolSize,
  hasValidSignature,
  setSharedCryptoPool,
  sharedCryptoPool,
  type CryptoPoolOptions,
} from "./cryptoPool.js";

/** Typed failures; map `code` to user text in one place. */
export { MarmotError, describeError, type MarmotErrorCode } from "./errors.js";

/** ts-mls crypto provider (0x0001 on node:crypto with cached Ed25519 keys). */
export { DEFAULT_CIPHERSUITE, getCiphersuite, marmotCryptoProvider } from "./cryptoProvider.js";

/** marmot_group_data (0xF2EE) v2, reads v1. */
export {
  MARMOT_GROUP_DATA_EXTENSION_TYPE,
  MARMOT_GROUP_DATA_VERSION,
  decodeGroupData,
  encodeGroupData,
  groupDataExtension,
  newGroupData,
  nostrGroupIdHex,
  readGroupData,
  type MarmotGroupData,
  type NewGroupDataInput,
} from "./groupData.js";

/** Relay URLs: the Marmot relay URL profile and the normal form used to connect and compare. */
export { isRelayUrl, normalizeRelayUrl, normalizeRelayUrls, relayUrlProblem, sameRelayUrl } from "../../shared/relayUrl.js";

/** KeyPackages (MIP-00) and their events: 443, 30443, 10051, kind 5 deletion. */
export {
  ADDRESSABLE_KEY_PACKAGE_KIND,
  KEY_PACKAGE_KIND,
  KEY_PACKAGE_RELAY_LIST_KIND,
  LAST_RESORT_EXTENSION_TYPE,
  credentialPubkey,
  deserializeKeyPackageBundle,
  generateKeyPackage,
  keyPackageDeletionTemplate,
  keyPackageEventTemplates,
  keyPackageRef,
  keyPackageRelayListRelays,
  keyPackageRelayListTemplate,
  parseKeyPackageEvent,
  selectKeyPackage,
  serializeKeyPackageBundle,
  type GenerateKeyPackageOptions,
  type KeyPackageBundle,
  type KeyPackageEventOptions,
  type KeyPackageEventRef,
  type KeyPackageEventTemplates,
  type ParsedKeyPackageEvent,
} from "./keyPackage.js";

/** Unsigned inner events: kind 9 chat (and replies), kind 7 reaction, kind 1009 edit, kind 5 deletion. */
export {
  CHAT_MESSAGE_KIND,
  DELETION_KIND,
  EDIT_KIND,
  REACTION_KIND,
  changeTarget,
  chatMessageRumor,
  createRumor,
  deletionRumor,
  editRumor,
  parseRumor,
  reactionRumor,
  replyRumor,
  replyTarget,
  replyText,
  type Rumor,
  type RumorInput,
} from "./rumor.js";

/** MLS group operations and state storage. */
export {
  addMembers,
  createGroup,
  deserializeGroupState,
  encryptRumor,
  groupEpoch,
  groupMembers,
  isAdmin,
  joinFromWelcome,
  marmotAuthService,
  mlsGroupIdHex,
  ownPubkey,
  processGroupMessage,
  proposeLeave,
  removeMembers,
  removeMembersAndUpdateGroupData,
  updateGroupData,
  commitPending,
  selfUpdate,
  serializeGroupState,
  type CommitOutcome,
  type CreateGroupInput,
  type CreatedGroup,
  type GroupDataChanges,
  type JoinedGroup,
  type ProcessedMessage,
} from "./group.js";

/** Kind 445 envelope (MIP-03) and the per-epoch key cache. */
export {
  DEFAULT_RETAINED_EPOCHS,
  EpochKeyCache,
  GROUP_EVENT_KIND,
  compareCommitEvents,
  deriveGroupEventKey,
  groupEventGroupId,
  sealGroupMessage,
  unwrapGroupEvent,
  wrapGroupMessage,
  type GroupEventKey,
  type UnwrappedGroupEvent,
} from "./groupEvents.js";

/** Send/receive paths tying group.ts and groupEvents.ts together. */
export { epochKeyFor, receiveGroupEvent, sealRumor, sendRumor, wrapCommit, wrapInEpoch, type ReceivedGroupEvent } from "./messaging.js";

/** NIP-98 HTTP auth headers (the agent API). */
export { HTTP_AUTH_KIND, nip98Header } from "./nip98.js";

/** Kind 444 Welcomes, gift-wrapped (MIP-02, NIP-59). */
export {
  GIFT_WRAP_KIND,
  GIFT_WRAP_MAX_BACKDATE_SECONDS,
  NIP44_MAX_PLAINTEXT,
  WELCOME_KIND,
  assertWelcomeFits,
  giftWrap,
  giftWrapSizes,
  parseWelcomeRumor,
  readWelcome,
  unwrapGiftWrap,
  welcomeKeyPackageRefs,
  welcomeRumor,
  type GiftWrapSizes,
  type ParsedWelcome,
  type ReceivedWelcome,
  type UnwrappedRumor,
  type WelcomeRumorInput,
} from "./welcome.js";
