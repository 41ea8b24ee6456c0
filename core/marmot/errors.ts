/**
 * Typed failures of the Marmot layer. Every function of this folder that rejects
 * untrusted input throws a {@link MarmotError}; the app core maps `code` to the
 * user-facing text, so messages here are for logs, never shown as-is.
 */
export type MarmotErrorCode =
  /** Malformed Nostr event: wrong kind, missing or malformed tag, bad JSON. */
  | "invalid_event"
  /** A Nostr event signature (or a gift wrap's seal) does not verify. */
  | "bad_signature"
  /** A KeyPackage event or KeyPackage that fails MIP-00 validation. */
  | "invalid_key_package"
  /** A ciphersuite this build cannot run. */
  | "unsupported_ciphersuite"
  /** A credential identity or rumor pubkey that does not match who signed or sent it. */
  | "identity_mismatch"
  /** marmot_group_data (0xF2EE) that cannot be decoded or is missing. */
  | "invalid_group_data"
  /** A Welcome that cannot be read or joined with the given KeyPackage. */
  | "invalid_welcome"
  /** A gift-wrapped Welcome would exceed NIP-44's 65,535-byte plaintext limit. */
  | "welcome_too_large"
  /** A kind 445 event that no known epoch key opens, or whose content is malformed. */
  | "undecryptable"
  /** A kind 445 event whose `h` tag names another group. */
  | "wrong_group"
  /** A commit or proposal rejected by Marmot policy (admin-only commits, immutable identity). */
  | "not_allowed"
  /** A message of an epoch we have not reached yet: retry it after the commits before it. */
  | "future_epoch"
  /** MLS processing failed (epoch too old, replay, invalid signature...). */
  | "mls_rejected"
  /** Stored bytes (group state, key package, epoch keys) that cannot be decoded. */
  | "corrupt_storage";

export class MarmotError extends Error {
  readonly code: MarmotErrorCode;

  constructor(code: MarmotErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MarmotError";
    this.code = code;
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
