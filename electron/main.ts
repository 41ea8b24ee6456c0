// The Electron adapter: one window, locked down, wired to the core over the typed IPC contract.
// Compiled to dist/electron/main.js; the renderer build is dist/renderer/, served as app://burrow/
// (appProtocol.ts), the bundled preload dist/electron/preload.cjs.
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  protocol,
  screen,
  session,
  shell,
  type IpcMainInvokeEvent,
  type Rectangle,
  type Session,
  type WebContents,
} from "electron";
import Store from "electron-store";
import { AppCore, type LogLine, PUBLIC_AGENT_API_URL, PUBLIC_RELAYS, agentApiUrlFromEnv, relaysFromEnv } from "../core/index.js";
import { APP_INDEX_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppRequestHandler, isAppIndexUrl } from "./appProtocol.js";
import { ElectronSecretStore } from "./secretStore.electron.js";
import { PACKAGED_FORBIDDEN_SWITCHES, mainWebPreferences, packagedMenuTemplate } from "./windowOptions.js";
import { CONTENT_SECURITY_POLICY } from "../shared/csp.js";
import { IPC_CHANNELS, type DispatchReply, type StatePush, type StateSnapshot } from "../shared/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const RENDERER_ROOT = path.join(here, "..", "renderer");
const PRELOAD = path.join(here, "preload.cjs");

/** Web permissions the UI may use; every other request is refused. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(["notifications", "clipboard-sanitized-write"]);

const REFUSED_SENDER = "Refused: unknown sender";
const BOUNDS_SAVE_DELAY_MS = 500;
const DEFAULT_SIZE = { width: 1100, height: 760 };
const MIN_SIZE = { width: 720, height: 480 };
/** How much of a restored window must lie on some display for its saved position to be kept. */
const MIN_VISIBLE = { width: 160, height: 80 };

interface WindowStateFile {
  bounds?: Rectangle;
  maximized?: boolean;
}

/** One JSON object per line on stdout, the same shape as the core's log lines. */
function log(line: LogLine): void {
  console.log(JSON.stringify({ ts: new Date().toISOString(), ...line }));
}

/** `--user-data-dir=<dir>` (tests, several profiles side by side) must take effect before the single-instance lock and `ready`. */
function applyUserDataDirArgument(argv: readonly string[]): void {
  const prefix = "--user-data-dir=";
  const arg = argv.find((a) => a.startsWith(prefix));
  if (arg === undefined) return;
  const dir = arg.slice(prefix.length);
  if (dir !== "") app.setPath("userData", path.resolve(dir));
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

function intersectionArea(a: Rectangle, b: Rectangle): { width: number; height: number } {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return { width: Math.max(0, width), height: Math.max(0, height) };
}

function isRectangle(value: unknown): value is Rectangle {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return ["x", "y", "width", "height"].every((k) => typeof r[k] === "number" && Number.isFinite(r[k]));
}

/** The saved bounds if enough of them is on a connected display; otherwise only a size that fits the primary display, centred. */
function restorableBounds(saved: unknown): Partial<Rectangle> & { width: number; height: number } {
  const workArea = screen.getPrimaryDisplay().workArea;
  const fit = (width: number, height: number) => ({
    width: Math.max(MIN_SIZE.width, Math.min(Math.round(width), workArea.width)),
    height: Math.max(MIN_SIZE.height, Math.min(Math.round(height), workArea.height)),
  });
  if (!isRectangle(saved)) return fit(DEFAULT_SIZE.width, DEFAULT_SIZE.height);
  const visible = screen.getAllDisplays().some((display) => {
    const overlap = intersectionArea(saved, display.workArea);
    return overlap.width >= MIN_VISIBLE.width && overlap.height >= MIN_VISIBLE.height;
  });
  if (!visible) return fit(saved.width, saved.height);
  return {
    x: Math.round(saved.x),
    y: Math.round(saved.y),
    width: Math.max(MIN_SIZE.width, Math.round(saved.width)),
    height: Math.max(MIN_SIZE.height, Math.round(saved.height)),
  };
}

function installSessionPolicy(ses: Session, isMainWindow: (contents: WebContents | null) => boolean): void {
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, "Content-Security-Policy": [CONTENT_SECURITY_POLICY] },
    });
  });
  ses.setPermissionRequestHandler((contents, permission, callback) => {
    callback(isMainWindow(contents) && ALLOWED_PERMISSIONS.has(permission));
  });
  ses.setPermissionCheckHandler((contents, permission) => isMainWindow(contents) && ALLOWED_PERMISSIONS.has(permission));
}

/** Every web contents, present or future: no navigation away from the renderer, no new windows, no webviews. */
function hardenWebContents(contents: WebContents): void {
  contents.on("will-navigate", (event, url) => {
    if (!isAppIndexUrl(url)) event.preventDefault();
  });
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isHttpUrl(url)) {
      shell.openExternal(url).catch((error: unknown) => log({ level: "warn", event: "open_external_failed", error: String(error) }));
    }
    return { action: "deny" };
  });
}

function start(): void {
  let core: AppCore | null = null;
  let mainWindow: BrowserWindow | null = null;
  let coreClosed = false;
  let coreClosing = false;

  const windowState = new Store<WindowStateFile>({ name: "window-state" });

  const isMainWindow = (contents: WebContents | null): boolean =>
    contents !== null && mainWindow !== null && !mainWindow.isDestroyed() && contents === mainWindow.webContents;

  /** Only our own page, in our own window's top frame, may talk to the core. */
  const isTrustedSender = (event: IpcMainInvokeEvent): boolean => {
    if (!isMainWindow(event.sender)) return false;
    const frame = event.senderFrame;
    return frame !== null && frame.parent === null && isAppIndexUrl(frame.url);
  };

  const createWindow = (): BrowserWindow => {
    const saved = windowState.get("bounds");
    const win = new BrowserWindow({
      ...restorableBounds(saved),
      minWidth: MIN_SIZE.width,
      minHeight: MIN_SIZE.height,
      title: "Burrow",
      show: false,
      webPreferences: mainWebPreferences({ isPackaged: app.isPackaged, preload: PRELOAD }),
    });
    if (windowState.get("maximized") === true) win.maximize();

    let saveTimer: NodeJS.Timeout | undefined;
    const saveBounds = (): void => {
      clearTimeout(saveTimer);
      saveTimer = undefined;
      if (win.isDestroyed() || win.isMinimized()) return;
      windowState.set({ bounds: win.getNormalBounds(), maximized: win.isMaximized() });
    };
    const saveBoundsSoon = (): void => {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(saveBounds, BOUNDS_SAVE_DELAY_MS);
    };
    win.on("resize", saveBoundsSoon);
    win.on("move", saveBoundsSoon);
    win.on("close", saveBounds);
    win.on("closed", () => {
      clearTimeout(saveTimer);
      if (mainWindow === win) mainWindow = null;
    });
    win.once("ready-to-show", () => win.show());

    win.loadURL(APP_INDEX_URL).catch((error: unknown) => log({ level: "error", event: "renderer_load_failed", error: String(error) }));
    return win;
  };

  const focusMainWindow = (): void => {
    if (mainWindow === null || mainWindow.isDestroyed()) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  };

  app.on("second-instance", focusMainWindow);
  app.on("web-contents-created", (_event, contents) => hardenWebContents(contents));

  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit();
  });

  app.on("activate", () => {
    if (core !== null && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });

  // The core flushes and closes its storage and relay connections before the process ends.
  app.on("before-quit", (event) => {
    if (core === null || coreClosed) return;
    event.preventDefault();
    if (coreClosing) return;
    coreClosing = true;
    core
      .close()
      .catch((error: unknown) => log({ level: "error", event: "core_close_failed", error: String(error) }))
      .finally(() => {
        coreClosed = true;
        app.quit();
      });
  });

  ipcMain.handle(IPC_CHANNELS.dispatch, (event, raw: unknown): Promise<DispatchReply> | DispatchReply => {
    if (core === null || !isTrustedSender(event)) {
      log({ level: "warn", event: "ipc_refused", channel: IPC_CHANNELS.dispatch, url: event.senderFrame?.url ?? null });
      return { ok: false, error: REFUSED_SENDER };
    }
    return core.dispatch(raw);
  });

  ipcMain.handle(IPC_CHANNELS.snapshot, (event): StatePush => {
    if (core === null || !isTrustedSender(event)) {
      log({ level: "warn", event: "ipc_refused", channel: IPC_CHANNELS.snapshot, url: event.senderFrame?.url ?? null });
      throw new Error(REFUSED_SENDER);
    }
    const { rev, state } = core.snapshot();
    return { rev, snapshot: state };
  });

  app
    .whenReady()
    .then(async () => {
      const serveRenderer = createAppRequestHandler(RENDERER_ROOT);
      protocol.handle(APP_SCHEME, async (request) => {
        const response = await serveRenderer({ method: request.method, url: request.url });
        if (response.status !== 200) log({ level: "warn", event: "app_request_refused", status: response.status, url: request.url });
        return new Response(response.body, { status: response.status, headers: response.headers });
      });
      if (app.isPackaged) Menu.setApplicationMenu(Menu.buildFromTemplate(packagedMenuTemplate(process.platform)));
      installSessionPolicy(session.defaultSession, isMainWindow);
      const secretStore = await ElectronSecretStore.open();
      log({ level: "info", event: "secret_store", kind: secretStore.kind, notice: secretStore.notice });
      // Packaged builds use well-known public relays; `npm start` points the app at the local stack's relay.
      const defaultRelays = relaysFromEnv(process.env["BURROW_RELAYS"]) ?? PUBLIC_RELAYS;
      const agentApiUrl = agentApiUrlFromEnv(process.env) ?? PUBLIC_AGENT_API_URL;
      const created = await AppCore.create({ secretStore, dataDir: app.getPath("userData"), log, defaultRelays, agentApiUrl });
      core = created;
      /** A native notification for a new message while the window is not focused (muted chats never get here). */
      const showNotification = (owner: AppCore, note: NonNullable<StateSnapshot["state"]["notification"]>): void => {
        if (!Notification.isSupported() || (mainWindow !== null && !mainWindow.isDestroyed() && mainWindow.isFocused())) return;
        const notification = new Notification({ title: note.title, body: note.body, silent: false });
        notification.on("click", () => {
          if (mainWindow !== null && !mainWindow.isDestroyed()) {
            if (mainWindow.isMinimized()) mainWindow.restore();
            mainWindow.focus();
          }
          void owner.dispatch({ type: "OpenChat", chat_id: note.chat_id });
        });
        notification.show();
      };
      let notified = created.snapshot().state.notification?.seq ?? 0;
      created.subscribe((push) => {
        if (mainWindow !== null && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_CHANNELS.state, push);
        const note = created.snapshot().state.notification;
        if (note && note.seq > notified) {
          notified = note.seq;
          showNotification(created, note);
        }
      });
      mainWindow = createWindow();
    })
    .catch((error: unknown) => {
      log({ level: "error", event: "startup_failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      dialog.showErrorBox("Burrow could not start", error instanceof Error ? error.message : String(error));
      app.exit(1);
    });
}

applyUserDataDirArgument(process.argv);
app.enableSandbox();
// Before ready, as Electron requires: the renderer's origin is app://burrow, never file://.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
const debugSwitch = app.isPackaged ? PACKAGED_FORBIDDEN_SWITCHES.find((name) => app.commandLine.hasSwitch(name)) : undefined;
if (debugSwitch !== undefined) {
  log({ level: "error", event: "startup_refused", switch: debugSwitch });
  app.exit(1);
} else if (app.requestSingleInstanceLock()) {
  start();
} else {
  app.quit();
}
