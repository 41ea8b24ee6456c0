// Lint rules, including the import rules of ARCHITECTURE.md: each area may import only what its row allows.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import { builtinModules } from "node:module";
import burrow from "./tools/eslint/coreFloors.js";

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

const noNode = { group: nodeBuiltins.flatMap((name) => [name, `${name}/*`]), message: "Node modules are not allowed here (ARCHITECTURE.md import rules)." };
const noElectron = { regex: "^electron(/.*)?$", message: "Only the Electron adapter (electron/main.ts, electron/preload.ts) may import electron." };
const noElectronArea = { group: ["**/electron/**", "../electron/*", "**/server/**", "**/core/**", "**/hosts/**"], message: "The renderer talks to the core only through window.burrow and shared/." };

export default tseslint.config(
  { ignores: ["dist/**", "release/**", "node_modules/**", "test-results/**", "playwright-report/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    files: ["shared/**/*.ts"],
    ignores: ["shared/**/*.test.ts"],
    languageOptions: { globals: {} },
    rules: { "no-restricted-imports": ["error", { patterns: [noNode, noElectron, { group: ["react", "react-dom", "react/*"], message: "shared/ is framework-free." }] }] },
  },
  {
    // The adapter's pure modules (app:// serving, window options) are unit-tested in plain Node: no electron either.
    files: ["core/**/*.ts", "hosts/**/*.ts", "server/**/*.ts", "electron/appProtocol.ts", "electron/windowOptions.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [noElectron] }] },
  },
  {
    // The core's floors and doors (ARCHITECTURE.md, "Inside the core: floors").
    files: ["**/*.ts", "**/*.tsx"],
    plugins: { burrow },
    rules: { "burrow/core-floors": "error" },
  },
  {
    // Playwright fixtures declare their dependencies as a destructured object, often an empty one.
    files: ["e2e/**/*.ts"],
    rules: { "no-empty-pattern": "off" },
  },
  {
    files: ["renderer/**/*.ts", "renderer/**/*.tsx"],
    ignores: ["renderer/**/*.test.ts"],
    languageOptions: { globals: { ...globals.browser } },
    rules: { "no-restricted-imports": ["error", { patterns: [noNode, noElectron, noElectronArea] }] },
  },
  {
    // The renderer's unit tests run under node:test; they still reach the app only through the renderer and shared/.
    files: ["renderer/**/*.test.ts"],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: { "no-restricted-imports": ["error", { patterns: [noElectron, noElectronArea] }] },
  },
);
