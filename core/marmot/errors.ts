/**
 * Typed failures of the Marmot layer. Every function of this folder that rejects
 * untrusted input throws a {@link MarmotError}; the app core maps `code` to the
 * user-facing text, so messages here are for logs, never shown as-is.
 */
import type { ProtocolErrorCode } from "../../shared/errors.js";

/** The codes, with what each means for a user, are the contract's (shared/errors.ts). */
export type MarmotErrorCode = ProtocolErrorCode;

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
