// Everything a renderer may ask of the core. Grouped by feature; every variant is plain JSON.

export type AuthAction =
  | { type: "CreateAccount" }
  | { type: "Login"; nsec: string }
  | { type: "Logout" }
  /** Answered in the dispatch reply (`nsec`), never through AppState. */
  | { type: "ExportSecretKey"; confirmed: true };

export type NetworkAction = { type: "SetNetworkEnabled"; enabled: boolean };

export type UiAction = { type: "DismissToast"; id: number };

export type AppAction = AuthAction | NetworkAction | UiAction;

export type AppActionType = AppAction["type"];

/** The answer to one dispatch: accepted (with the exported key for ExportSecretKey), or refused with a reason. */
export type DispatchReply = { ok: true; nsec?: string } | { ok: false; error: string };

export type ParsedAction = { ok: true; action: AppAction } | { ok: false; error: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Validates untrusted input (IPC, WebSocket) into an AppAction, or says what is wrong with it. */
export function parseAction(raw: unknown): ParsedAction {
  if (!isRecord(raw)) return { ok: false, error: "Malformed action: expected an object" };
  const type = raw["type"];
  if (typeof type !== "string") return { ok: false, error: "Malformed action: missing type" };
  switch (type) {
    case "CreateAccount":
    case "Logout":
      return { ok: true, action: { type } };
    case "Login": {
      const nsec = raw["nsec"];
      if (typeof nsec !== "string") return { ok: false, error: "Malformed Login: nsec must be a string" };
      return { ok: true, action: { type, nsec } };
    }
    case "ExportSecretKey":
      if (raw["confirmed"] !== true) return { ok: false, error: "Key export needs confirmation" };
      return { ok: true, action: { type, confirmed: true } };
    case "SetNetworkEnabled": {
      const enabled = raw["enabled"];
      if (typeof enabled !== "boolean") return { ok: false, error: "Malformed SetNetworkEnabled: enabled must be a boolean" };
      return { ok: true, action: { type, enabled } };
    }
    case "DismissToast": {
      const id = raw["id"];
      if (typeof id !== "number" || !Number.isSafeInteger(id)) return { ok: false, error: "Malformed DismissToast: id must be an integer" };
      return { ok: true, action: { type, id } };
    }
    default:
      return { ok: false, error: `Unknown action: ${type.slice(0, 64)}` };
  }
}

/** A log-safe description of an action: names and harmless fields only, never a key. */
export function actionTag(action: AppAction): string {
  switch (action.type) {
    case "CreateAccount":
    case "Login":
    case "Logout":
    case "ExportSecretKey":
      return action.type;
    case "SetNetworkEnabled":
      return `SetNetworkEnabled(${action.enabled ? "on" : "off"})`;
    case "DismissToast":
      return `DismissToast(${action.id})`;
  }
}
