// How an action's request ends for the user: refused (a toast, or for a form's request its outcome
// in the state, shown inline), or run with a busy flag up until its result is in.
import type { DispatchReply } from "../../shared/actions.js";
import { toUserMessage, type CoreErrorCode } from "../../shared/errors.js";
import type { AppState } from "../../shared/state.js";
import { userTextOr } from "../base/errors.js";
import type { AccountContext, EffectKind, Step } from "./context.js";

/** Outcomes of requests with a request_id kept in the state. */
const MAX_OUTCOMES = 8;

export function outcome(ctx: Pick<AccountContext, "update">, requestId: number | undefined, error: string | null): void {
  if (requestId === undefined) return;
  ctx.update((s) => {
    s.outcomes = [...s.outcomes.filter((o) => o.request_id !== requestId), { request_id: requestId, error }].slice(-MAX_OUTCOMES);
  });
}

/** Refused with `message`: toasted, or, for a form's request, put in its outcome. */
export function refuse(ctx: Pick<AccountContext, "update" | "toast">, message: string, requestId?: number): DispatchReply {
  if (requestId === undefined) ctx.toast("error", message);
  else outcome(ctx, requestId, message);
  return { ok: false, error: message };
}

export function refuseWith(ctx: Pick<AccountContext, "update" | "toast">, code: CoreErrorCode, requestId?: number): DispatchReply {
  return refuse(ctx, toUserMessage(code), requestId);
}

export interface BusyRequest {
  flag: keyof Pick<AppState["busy"], "creating_chat" | "updating_group">;
  kind: EffectKind;
  /** Resolves with the chat to open, or null. */
  work(step: Step): Promise<string | null>;
  /** The failure's text when the error is not a user-facing one already. */
  failure: CoreErrorCode;
  requestId?: number | undefined;
  /** A current result: the chat to open (or null to only refresh). */
  done(chatId: string | null): void;
}

/** Runs a request with its busy flag up; a failure ends busy with one toast, or, for a form, with its outcome. */
export function withBusy(ctx: AccountContext, request: BusyRequest): DispatchReply {
  const { flag, requestId } = request;
  ctx.update((s) => {
    s.busy[flag] = true;
  });
  const idle = (): void =>
    ctx.update((s) => {
      s.busy[flag] = false;
    });
  ctx.run(request.kind, (step) => request.work(step), {
    apply: (chatId) => {
      idle();
      request.done(chatId);
      outcome(ctx, requestId, null);
    },
    fail: (error) => {
      idle();
      const message = userTextOr(request.failure, error);
      if (requestId === undefined) ctx.toast("error", message);
      else outcome(ctx, requestId, message);
    },
  });
  return { ok: true };
}
