// The import rules of ARCHITECTURE.md are enforced twice: by the per-area tsconfigs and by eslint.
// These tests feed each gate a forbidden import and expect a refusal.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function lintErrors(relativePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, relativePath) });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

function typeErrors(configName: string, relativePath: string, code: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, configName), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, "\n")),
  });
  assert.ok(parsed);
  const virtualPath = join(root, relativePath);
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (file === virtualPath ? code : readFile(file));
  host.fileExists = (file) => file === virtualPath || ts.sys.fileExists(file);
  host.getSourceFile = (file, language) =>
    file === virtualPath ? ts.createSourceFile(file, code, language) : getSourceFile(file, language);
  const program = ts.createProgram({ rootNames: [virtualPath], options: parsed.options, host });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === virtualPath)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

const importElectron = `import { app } from "electron";\nexport const name = app.getName();\n`;
const importNode = `import { readFileSync } from "node:fs";\nexport const text = readFileSync("x", "utf8");\n`;

test("core_importing_electron_fails_lint_and_typecheck", async () => {
  const lint = await lintErrors("core/forbidden.ts", importElectron);
  assert.ok(lint.some((e) => e.startsWith("no-restricted-imports")), lint.join("\n"));
  const types = typeErrors("tsconfig.core.json", "core/forbidden.ts", importElectron);
  assert.ok(types.some((e) => /not a module/.test(e)), types.join("\n"));
});

test("renderer_importing_node_fails_lint_and_typecheck", async () => {
  const lint = await lintErrors("renderer/src/forbidden.ts", importNode);
  assert.ok(lint.some((e) => e.startsWith("no-restricted-imports")), lint.join("\n"));
  const types = typeErrors("tsconfig.web.json", "renderer/src/forbidden.ts", importNode);
  assert.ok(types.some((e) => /Cannot find module 'node:fs'/.test(e)), types.join("\n"));
});

test("shared_importing_node_fails_lint_and_typecheck", async () => {
  const lint = await lintErrors("shared/forbidden.ts", importNode);
  assert.ok(lint.some((e) => e.startsWith("no-restricted-imports")), lint.join("\n"));
  const types = typeErrors("tsconfig.shared.json", "shared/forbidden.ts", importNode);
  assert.ok(types.some((e) => /Cannot find module 'node:fs'/.test(e)), types.join("\n"));
});

test("the_electron_adapter_may_import_electron", async () => {
  assert.deepEqual(await lintErrors("electron/main-check.ts", importElectron), []);
  assert.deepEqual(typeErrors("tsconfig.electron.json", "electron/main-check.ts", importElectron), []);
});

// The core's floors (tools/eslint/coreFloors.js): each rule refuses one import and allows its neighbour.
async function floorErrors(relativePath: string, code: string): Promise<string[]> {
  return (await lintErrors(relativePath, code)).filter((e) => e.startsWith("burrow/core-floors: "));
}

const importing = (specifier: string) => `import { value } from "${specifier}";\nexport const copy = value;\n`;

test("a_core_file_imports_only_its_own_floor_or_lower_ones", async () => {
  assert.deepEqual(await floorErrors("core/chats/x.ts", importing("../features/messages/y.js")), [
    "burrow/core-floors: core/chats/x.ts (floor 2) may not import core/features/messages/y.ts (floor 3): a file imports only its own floor or lower ones (ARCHITECTURE.md)",
  ]);
  assert.deepEqual(await floorErrors("core/features/messages/a.ts", importing("../../chats/registry.js")), []);
  assert.deepEqual(await floorErrors("core/app/composer.ts", importing("../features/messages/send.js")), []);
});

test("the_core_imports_only_core_and_shared", async () => {
  assert.deepEqual(await floorErrors("core/app/x.ts", importing("../../server/agent/cli.js")), [
    "burrow/core-floors: core/app/x.ts may not import server/agent/cli.ts: the core imports only core/ and shared/ (ARCHITECTURE.md)",
  ]);
  assert.deepEqual(await floorErrors("core/app/x.ts", importing("../../shared/state.js")), []);
});

test("type_imports_re_exports_and_dynamic_imports_count_as_imports", async () => {
  const typeOnly = `import type { AccountContext } from "../state/context.js";\nexport type Context = AccountContext;\n`;
  assert.deepEqual(await floorErrors("core/base/x.ts", typeOnly), [
    "burrow/core-floors: core/base/x.ts (floor 0) may not import core/state/context.ts (floor 1): a file imports only its own floor or lower ones (ARCHITECTURE.md)",
  ]);
  const reExport = `export { AppCore } from "../app/appCore.js";\nexport * from "../app/appCore.js";\n`;
  assert.equal((await floorErrors("core/relays/x.ts", reExport)).length, 2);
  const dynamic = `export const load = () => import("../app/appCore.js");\n`;
  assert.equal((await floorErrors("core/relays/x.ts", dynamic)).length, 1);
  assert.deepEqual(await floorErrors("core/state/x.ts", typeOnly.replace("../state/context.js", "./context.js")), []);
});

test("features_never_import_each_other", async () => {
  const errors = await floorErrors("core/features/messages/a.ts", importing("../groups/b.js"));
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? "", /core\/features\/messages\/a\.ts may not import core\/features\/groups\/b\.ts: features never import each other/);
  assert.deepEqual(await floorErrors("core/features/messages/a.ts", importing("./send.js")), []);
});

test("the_protocol_imports_only_itself_and_shared", async () => {
  const errors = await floorErrors("core/marmot/x.ts", importing("../storage/accountStore.js"));
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? "", /marmot\/ is the pure protocol/);
  assert.deepEqual(await floorErrors("core/marmot/x.ts", importing("./group.js")), []);
  assert.deepEqual(await floorErrors("core/marmot/x.ts", importing("../../shared/relayUrl.js")), []);
  assert.deepEqual(await floorErrors("core/storage/x.ts", importing("../marmot/group.js")), []);
});

test("a_file_under_core_off_every_floor_is_refused", async () => {
  const errors = await floorErrors("core/stray.ts", "export const stray = 1;\n");
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? "", /^burrow\/core-floors: core\/stray\.ts is not on a floor: move it to core\/base\//);
  assert.equal((await floorErrors("core/features/loose.ts", "export const loose = 1;\n")).length, 1);
  assert.equal((await floorErrors("core/app/x.ts", importing("../stray.js"))).length, 1);
});

test("code_outside_the_core_imports_only_its_doors", async () => {
  const errors = await floorErrors("server/x.ts", importing("../core/storage/accountStore.js"));
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? "", /server\/x\.ts may not import core\/storage\/accountStore\.ts: outside core\/, import only core\/index\.ts or core\/marmot\/index\.ts/);
  assert.deepEqual(await floorErrors("server/x.ts", importing("../core/index.js")), []);
  assert.deepEqual(await floorErrors("hosts/web/x.ts", importing("../../core/marmot/index.js")), []);
  assert.equal((await floorErrors("electron/x.ts", importing("../core/testing.js"))).length, 1);
  assert.deepEqual(await floorErrors("electron/x.test.ts", importing("../core/testing.js")), []);
});

test("tests_are_off_the_floors_and_only_tests_import_them", async () => {
  assert.deepEqual(await floorErrors("core/chats/x.test.ts", importing("../features/messages/y.js")), []);
  assert.deepEqual(await floorErrors("core/integration/x.integration.test.ts", importing("../app/appCore.js")), []);
  const errors = await floorErrors("core/app/x.ts", importing("../testing.js"));
  assert.deepEqual(errors, ["burrow/core-floors: core/app/x.ts may not import core/testing.ts: test code is for tests only"]);
});
