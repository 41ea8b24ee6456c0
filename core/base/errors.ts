// The core's failures as users see them: a CoreError carries a code of the one table (shared/errors.ts);
// anything else is mapped here, so no raw protocol or library text reaches a toast.
import { CoreError, protocolErrorText, toUserMessage, type CoreErrorCode } from "../../shared/errors.js";
import { MarmotError, describeError } from "../marmot/errors.js";

export { CoreError };

/** Throws a failure that is shown as it is (its code's text). */
export function fail(code: CoreErrorCode, detail?: string): never {
  throw new CoreError(code, detail);
}

/** What a user reads for `error`: a CoreError's text, a protocol failure in words, else the error's message. */
export function userText(error: unknown): string {
  if (error instanceof CoreError) return error.toUserMessage();
  if (error instanceof MarmotError) return protocolErrorText(error.code);
  const withText = error as { toUserMessage?: () => string } | null;
  if (withText && typeof withText.toUserMessage === "function") return withText.toUserMessage();
  return describeError(error);
}

/** `code`'s text with `error` as its detail, unless `error` is already a user-facing failure. */
export function userTextOr(code: CoreErrorCode, error: unknown): string {
  return error instanceof CoreError ? error.toUserMessage() : toUserMessage(code, userText(error));
}
