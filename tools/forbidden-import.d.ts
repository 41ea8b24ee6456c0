// Mapped in place of 'electron' for code that must stay plain Node (tsconfig.core.json):
// this file is not a module, so `import ... from "electron"` fails to typecheck there.
declare const forbiddenImport: never;
