// The route table: which part of the account handles each action that needs a signed-in account.
// Session actions (sign in and out, the key, the network switch, toasts) are the session's.
import type { AppAction, DispatchReply } from "../../shared/actions.js";
import { refuseWith } from "../state/requests.js";
import type { Account } from "./account.js";

export type SessionActionType = "CreateAccount" | "Login" | "Logout" | "ExportSecretKey" | "SetNetworkEnabled" | "DismissToast";
export type AccountAction = Exclude<AppAction, { type: SessionActionType }>;

type Routes = { [K in AccountAction["type"]]: (account: Account, action: Extract<AccountAction, { type: K }>) => DispatchReply };

const done = (): DispatchReply => ({ ok: true });

export const ACCOUNT_ROUTES: Routes = {
  CreateChat: (a, x) => a.directChats.create(x.peer, x.request_id),
  OpenChat: (a, x) => a.projection.open(x.chat_id, x.message_id),
  CloseChat: (a) => a.projection.close(),
  LoadOlderMessages: (a, x) => a.projection.loadOlder(x.chat_id),
  SendMessage: (a, x) => a.messages.send(x.chat_id, x.text, x.reply_to),
  RetryMessage: (a, x) => a.messages.retry(x.chat_id, x.message_id),
  React: (a, x) => a.messages.react(x.chat_id, x.message_id, x.emoji),
  AcceptInvite: (a, x) => a.invites.accept(x.invite_id),
  DeclineInvite: (a, x) => a.invites.decline(x.invite_id),
  SetChatMuted: (a, x) => {
    if (!a.registry.has(x.chat_id)) return refuseWith(a.ctx, "chat_not_found");
    a.registry.setFlags(x.chat_id, { muted: x.muted });
    return done();
  },
  CreateGroup: (a, x) => a.groups.handle(x),
  AddMembers: (a, x) => a.groups.handle(x),
  RemoveMember: (a, x) => a.groups.handle(x),
  RenameGroup: (a, x) => a.groups.handle(x),
  LeaveGroup: (a, x) => a.groups.handle(x),
  SetRelays: (a, x) => {
    a.network.setRelays(x.relays);
    return done();
  },
  EnsureAgent: (a) => a.agent.ensure(),
  RetryAgentProbe: (a) => {
    a.agent.probe();
    return done();
  },
  SetAgentApiUrl: (a, x) => {
    a.agent.setApiUrl(x.url);
    return done();
  },
  DismissKeyBackup: (a) => a.dismissKeyBackup(),
  DismissStorageNotice: (a) => a.dismissStorageNotice(),
  Search: (a, x) => a.search.search(x.query, x.chat_id),
  LoadMoreSearchResults: (a) => a.search.loadMore(),
  ClearSearch: (a) => a.search.clear(),
  EditMessage: (a, x) => a.messages.edit(x.chat_id, x.message_id, x.text),
  DeleteMessage: (a, x) => a.messages.delete(x.chat_id, x.message_id),
  FocusMessage: (a, x) => a.projection.focus(x.chat_id, x.message_id),
  SetProfile: (a, x) => a.profiles.set({ name: x.name, about: x.about, picture: x.picture }),
  SetLoadPictures: (a, x) => a.profiles.setLoadPictures(x.enabled),
};

/** Hands `action` to its route. */
export function route(account: Account, action: AccountAction): DispatchReply {
  const handler = ACCOUNT_ROUTES[action.type] as (account: Account, action: AccountAction) => DispatchReply;
  return handler(account, action);
}
