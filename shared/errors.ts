// Every user-facing error string of the core lives in this one table: the core throws or refuses with
// a code (and a detail), and only `toUserMessage` turns it into text.

const MESSAGES = {
  invalid_private_key: () => "Invalid private key",
  invalid_relay_url: (detail?: string) => `This relay URL ${detail ?? "is not valid"}.`,
  not_logged_in: () => "Sign in first.",
  shutting_down: () => "Burrow is shutting down",
  secret_storage_failed: (detail?: string) => `Could not store your key: ${detail ?? "unknown error"}`,
  stored_key_unreadable: (detail?: string) => `Could not read your stored key: ${detail ?? "unknown error"}`,
  stored_key_invalid: () => "Your stored key is not a valid private key. Import your key again.",
  account_store_failed: (detail?: string) => `Could not open your chats on this device: ${detail ?? "unknown error"}`,
  chat_unreadable: (detail?: string) => `A chat could not be loaded from storage: ${detail ?? "unknown error"}`,
  malformed_action: (detail?: string) => `The app sent a request the core does not understand (${detail ?? "malformed"}).`,
  invite_key_package_gone: () => "This invitation was made for a key package this device no longer has. Ask whoever invited you to add you again.",
  join_failed: (detail?: string) => `Could not join the chat: ${detail ?? "unknown error"}. Ask whoever invited you to add you again.`,
  internal: (detail?: string) => `Something went wrong: ${detail ?? "unknown error"}`,
  message_too_long: (detail?: string) =>
    `This message is too long to send (${detail ?? "more than 16,000"} characters; at most 16,000). Shorten it or send it in parts.`,
  agent_api_unreachable: (detail?: string) => `The agent API could not be reached${detail ? ` (${detail})` : ""}.`,
  no_relay_answered: (detail?: string) =>
    `No relay answered while looking for ${detail ?? "their"} key package. Check Settings → Relays (is the local stack running?), then try again.`,
  key_package_not_found: (detail?: string) =>
    `No key package found for ${detail ?? "them"} on your relays. They need to open Burrow or another Marmot app first, with a relay you share.`,
  own_agent_no_key_package: (detail?: string) =>
    `${detail ?? "This"} is your agent, and it has no key package on your relays: it is not running. Click New Agent to start it again.`,
  key_package_unusable: (detail?: string) => `No usable key package for ${detail ?? "them"}.`,
  key_package_publish_failed: (detail?: string) => `Key package publish failed: ${detail ?? "no relay accepted it"}`,
  chat_not_found: () => "That chat does not exist.",
  chat_not_open: () => "That chat is not open",
  message_not_found: () => "That message does not exist.",
  message_not_yours: () => "You can only edit or delete your own messages.",
  message_not_sent: () => "Only a sent message can be edited or deleted. Wait until it is sent.",
  own_key: () => "That is your own key. Enter someone else's npub.",
  chat_busy: () => "A chat is already being created. Try again in a moment.",
  chat_create_failed: (detail?: string) => `Could not create the chat: ${detail ?? "unknown error"}`,
  chat_not_accepted: (detail?: string) => `Could not create the chat: no relay accepted it (${detail ?? "no relays"})`,
  invite_not_delivered: (detail?: string) => `The chat was created but the invitation was not delivered: ${detail ?? "no relay"}`,
  invites_not_delivered: (detail?: string) => `The invitation did not reach ${detail ?? "some"} member(s); add them again later.`,
  group_busy: () => "The group is still being updated. Try again in a moment.",
  group_update_failed: (detail?: string) => `Could not update the group: ${detail ?? "unknown error"}`,
  no_members: () => "Add at least one other member.",
  already_members: () => "They are already in the group.",
  group_too_large: (detail?: string) =>
    `The group is too large to invite more members (${detail ?? "too many"}): a Marmot invitation would not fit one gift wrap.`,
  leave_failed: (detail?: string) => `Could not leave the group: ${detail ?? "no relay accepted it"}`,
  change_not_accepted: (detail?: string) => `No relay accepted the change: ${detail ?? "no relays"}`,
  commit_race_lost: () => "Another admin changed the group at the same moment; your change was undone. Try it again.",
  agent_already_starting: () => "An agent is already starting.",
  agent_access_checking: () => "Checking agent access. Try again in a moment.",
  agent_network_off: () => "The network is off. Turn it on to start your agent.",
  agent_auth: () => "Agent auth failed. Please sign in again.",
  agent_not_allowlisted: () => "This account is not allowlisted for agents.",
  agent_not_found_after_create: () => "Agent was not found after creation. Try again.",
  agent_still_starting: () => "Agent is still starting. Try again in a moment.",
  agent_invalid_response: () => "Agent API returned an invalid response.",
  agent_requires_local_signer: () => "Agent requires local key signer.",
  agent_request_failed: (detail?: string) => `Agent request failed: ${detail ?? "unknown error"}`,
  agent_network: (detail?: string) => `Network error while starting agent: ${detail ?? "unknown error"}`,
  agent_failed_to_start: () => "the agent failed to start",
  profile_name_too_long: () => "Your name can be at most 100 characters.",
  profile_about_too_long: () => "About can be at most 500 characters.",
  profile_picture_invalid: () => "The picture must be an http:// or https:// URL of at most 1,000 characters.",
  profile_not_published: (detail?: string) => `Your profile is saved here, but no relay accepted it: ${detail ?? "no relays"}`,
} satisfies Record<string, (detail?: string) => string>;

export type CoreErrorCode = keyof typeof MESSAGES;

export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    readonly detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = "CoreError";
  }

  /** The text a user sees for this error. */
  toUserMessage(): string {
    return toUserMessage(this.code, this.detail);
  }
}

export function toUserMessage(code: CoreErrorCode, detail?: string): string {
  return MESSAGES[code](detail);
}

/**
 * Failures of the Marmot protocol layer (its `MarmotError` codes), in words a user can act on. The
 * layer's own messages are for logs; these are what a toast or an inline error says.
 */
const PROTOCOL_MESSAGES = {
  invalid_event: "a malformed event",
  bad_signature: "a signature that does not verify",
  invalid_key_package: "their key package is not valid",
  unsupported_ciphersuite: "a cipher suite Burrow cannot use",
  identity_mismatch: "an identity that does not match its sender",
  invalid_group_data: "group data that cannot be read",
  invalid_welcome: "an invitation that cannot be read",
  welcome_too_large: "an invitation too large to send",
  undecryptable: "a message no key of this chat opens",
  wrong_group: "a message for another chat",
  not_allowed: "a change only an admin may make",
  future_epoch: "a message of a later group state",
  mls_rejected: "a group message that was refused",
  corrupt_storage: "damaged data on this device",
} as const;

export type ProtocolErrorCode = keyof typeof PROTOCOL_MESSAGES;

export function protocolErrorText(code: ProtocolErrorCode): string {
  return PROTOCOL_MESSAGES[code];
}
