// Every user-facing error string of the core lives in this one table.

export type CoreErrorCode =
  | "invalid_private_key"
  | "invalid_relay_url"
  | "not_logged_in"
  | "secret_storage_failed"
  | "malformed_action"
  | "invite_key_package_gone"
  | "join_failed"
  | "internal"
  | "message_too_long"
  | "agent_api_unreachable"
  | "no_relay_answered"
  | "key_package_not_found"
  | "own_agent_no_key_package";

export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    readonly detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = "CoreError";
  }
}

export function toUserMessage(code: CoreErrorCode, detail?: string): string {
  switch (code) {
    case "invalid_private_key":
      return "Invalid private key";
    case "invalid_relay_url":
      return `This relay URL ${detail ?? "is not valid"}.`;
    case "not_logged_in":
      return "Sign in first.";
    case "secret_storage_failed":
      return `Could not store your key: ${detail ?? "unknown error"}`;
    case "malformed_action":
      return `The app sent a request the core does not understand (${detail ?? "malformed"}).`;
    case "invite_key_package_gone":
      return "This invitation was made for a key package this device no longer has. Ask whoever invited you to add you again.";
    case "join_failed":
      return `Could not join the chat: ${detail ?? "unknown error"}. Ask whoever invited you to add you again.`;
    case "internal":
      return `Something went wrong: ${detail ?? "unknown error"}`;
    case "message_too_long":
      return `This message is too long to send (${detail ?? "more than 16,000"} characters; at most 16,000). Shorten it or send it in parts.`;
    case "agent_api_unreachable":
      return `The agent API could not be reached${detail ? ` (${detail})` : ""}.`;
    case "no_relay_answered":
      return `No relay answered while looking for ${detail ?? "their"} key package. Check Settings → Relays (is the local stack running?), then try again.`;
    case "key_package_not_found":
      return `No key package found for ${detail ?? "them"} on your relays. They need to open Burrow or another Marmot app first, with a relay you share.`;
    case "own_agent_no_key_package":
      return `${detail ?? "This"} is your agent, and it has no key package on your relays: it is not running. Click New Agent to start it again.`;
  }
}
