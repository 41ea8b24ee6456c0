import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PACKAGED_FORBIDDEN_SWITCHES, mainWebPreferences, packagedMenuTemplate, type PackagedMenuItem } from "./windowOptions.js";

/** Roles that open DevTools or reload the page (Electron's View menu carries them and their shortcuts). */
const DEBUG_ROLES: ReadonlySet<string> = new Set(["toggleDevTools", "reload", "forceReload", "viewMenu"]);

function allRoles(items: readonly PackagedMenuItem[]): string[] {
  return items.flatMap((item) => [...(item.role === undefined ? [] : [item.role]), ...allRoles(item.submenu ?? [])]);
}

describe("unit: main window options", () => {
  test("a_packaged_build_has_no_devtools_and_development_keeps_them", () => {
    assert.equal(mainWebPreferences({ isPackaged: true, preload: "/p.cjs" }).devTools, false);
    assert.equal(mainWebPreferences({ isPackaged: false, preload: "/p.cjs" }).devTools, true);
  });

  test("the_window_is_isolated_and_sandboxed_in_both_modes", () => {
    for (const isPackaged of [true, false]) {
      const prefs = mainWebPreferences({ isPackaged, preload: "/p.cjs" });
      assert.equal(prefs.contextIsolation, true);
      assert.equal(prefs.sandbox, true);
      assert.equal(prefs.nodeIntegration, false);
      assert.equal(prefs.webSecurity, true);
      assert.equal(prefs.preload, "/p.cjs");
    }
  });

  test("the_packaged_menu_has_no_devtools_or_reload_on_any_platform", () => {
    for (const platform of ["darwin", "win32", "linux"] as const) {
      const roles = allRoles(packagedMenuTemplate(platform));
      assert.deepEqual(roles.filter((role) => DEBUG_ROLES.has(role)), [], platform);
      assert.ok(roles.includes("editMenu"), `${platform}: copy and paste shortcuts stay`);
    }
    assert.equal(packagedMenuTemplate("darwin")[0]?.role, "appMenu");
  });

  test("a_packaged_build_refuses_remote_debugging_switches", () => {
    assert.deepEqual([...PACKAGED_FORBIDDEN_SWITCHES].sort(), ["remote-debugging-pipe", "remote-debugging-port"]);
  });
});
