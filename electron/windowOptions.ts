// The main window's security settings and the packaged app's menu, as plain data: main.ts passes them
// to Electron, the unit tests read them without an Electron binary.

export interface MainWebPreferences {
  readonly contextIsolation: true;
  readonly sandbox: true;
  readonly nodeIntegration: false;
  readonly webSecurity: true;
  /** DevTools only in development: a packaged build cannot open them, by shortcut, menu or API. */
  readonly devTools: boolean;
  readonly preload: string;
}

export function mainWebPreferences(options: { isPackaged: boolean; preload: string }): MainWebPreferences {
  return {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    webSecurity: true,
    devTools: !options.isPackaged,
    preload: options.preload,
  };
}

/** The subset of Electron's menu roles the packaged menu uses; none opens DevTools or reloads the page. */
export type PackagedMenuRole = "appMenu" | "fileMenu" | "editMenu" | "windowMenu" | "resetZoom" | "zoomIn" | "zoomOut" | "togglefullscreen";

export interface PackagedMenuItem {
  role?: PackagedMenuRole;
  label?: string;
  type?: "separator";
  submenu?: PackagedMenuItem[];
}

/**
 * Replaces Electron's default menu in packaged builds, whose View menu has Reload and Toggle
 * Developer Tools (and their shortcuts). Edit stays: on macOS copy and paste need its shortcuts.
 */
export function packagedMenuTemplate(platform: NodeJS.Platform): PackagedMenuItem[] {
  const view: PackagedMenuItem = {
    label: "View",
    submenu: [{ role: "resetZoom" }, { role: "zoomIn" }, { role: "zoomOut" }, { type: "separator" }, { role: "togglefullscreen" }],
  };
  const first: PackagedMenuItem = platform === "darwin" ? { role: "appMenu" } : { role: "fileMenu" };
  return [first, { role: "editMenu" }, view, { role: "windowMenu" }];
}

/**
 * Chromium switches that open a debugging door the fuses do not close (the NodeCliInspect fuse
 * covers `--inspect`): a packaged build refuses to start with them.
 */
export const PACKAGED_FORBIDDEN_SWITCHES: readonly string[] = ["remote-debugging-port", "remote-debugging-pipe"];
