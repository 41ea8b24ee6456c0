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
