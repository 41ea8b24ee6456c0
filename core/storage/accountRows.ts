// The rows of the per-account store as its callers read and write them (accountStore.ts turns
// them into SQLite's JSON text and BLOBs and back).

export type GroupKind = "direct" | "group";
/** pending → sent or failed for our own messages; received for everyone else's. */
export type MessageStatus = "pending" | "sent" | "failed" | "received";
export type InviteStatus = "pending" | "accepted" | "declined";

/** Every timestamp in this store is unix seconds. Every pubkey and event id is lowercase hex. */
export interface KeyPackageRow {
  /** KeyPackageRef (hex), the id MLS uses for a key package. */
  ref: string;
  /** The serialized private part (init, HPKE and signature keys). */
  private: Uint8Array;
  /** The serialized KeyPackage as published. */
  public: Uint8Array;
  event_443_id: string | null;
  event_30443_id: string | null;
  d_tag: string;
  created_at: number;
  published_at: number | null;
  used_at: number | null;
  deleted_at: number | null;
}

export type NewKeyPackage = Pick<KeyPackageRow, "ref" | "private" | "public" | "d_tag" | "created_at">;

export interface GroupRow {
  /** hex of the nostr_group_id (the `h` tag of the group's kind-445 events). */
  id: string;
  mls_group_id: string;
  kind: GroupKind;
  name: string;
  description: string;
  admins: string[];
  relays: string[];
  members: string[];
  /** The other member of a direct chat; null for groups. */
  peer: string | null;
  /** Serialized MLS group state. */
  state: Uint8Array;
  epoch: number;
  created_at: number;
  /** Last activity; chats are listed newest first by it. */
  updated_at: number;
  /** Messages created after it are unread. */
  last_read_at: number;
}

/** last_read_at is never written by an upsert; it has its own setter. */
export type GroupInput = Omit<GroupRow, "last_read_at">;

export interface EpochKeyRow {
  group_id: string;
  epoch: number;
  key: Uint8Array;
}

export interface MessageRow {
  /** Insertion order; breaks ties between messages with the same created_at. */
  seq: number;
  /** Id of the inner rumor. */
  id: string;
  group_id: string;
  sender: string;
  kind: number;
  content: string;
  tags: string[][];
  created_at: number;
  status: MessageStatus;
  error: string | null;
  /** Our own signed kind-445 event, kept to retry publishing it. */
  event_json: string | null;
}

export type MessageInput = Omit<MessageRow, "seq" | "error" | "event_json"> & {
  error?: string | null;
  event_json?: string | null;
};

/** Position of a message in a chat's order (created_at, then seq). */
export interface MessageCursor {
  created_at: number;
  seq: number;
}

export interface MessagePage {
  /** Oldest first. */
  messages: MessageRow[];
  /** Whether messages older than the first one exist. */
  has_older: boolean;
}

export interface ChatSummaryRow {
  id: string;
  kind: GroupKind;
  name: string;
  peer: string | null;
  members: string[];
  updated_at: number;
  last_read_at: number;
  /** The newest kind-9 message, or nulls when the chat has none. */
  last_message: string | null;
  last_message_at: number | null;
  last_message_sender: string | null;
  last_message_id: string | null;
  /** Kind-9 messages from others stored after the group was last marked read. */
  unread: number;
}

export interface InviteRow {
  /** Id of the Welcome rumor (kind 444). */
  id: string;
  from_pubkey: string;
  group_name: string;
  /** The MLS Welcome message. */
  welcome: Uint8Array;
  key_package_event_id: string;
  relays: string[];
  received_at: number;
  status: InviteStatus;
}

export type InviteInput = Omit<InviteRow, "status">;

export interface ProfileRow {
  pubkey: string;
  name: string | null;
  picture: string | null;
  /** created_at of the kind-0 event it came from. */
  created_at: number;
}
