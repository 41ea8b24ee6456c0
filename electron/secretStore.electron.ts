// The private key at rest in the Electron app: encrypted by the OS (Keychain, DPAPI,
// libsecret/KWallet) through `safeStorage`, kept as base64 ciphertext in an electron-store file.
// Only the asynchronous safeStorage API is used: the synchronous one is deprecated in Electron 45
// and removed in 46.
import { safeStorage } from "electron";
import Store from "electron-store";
import type { SecretStore } from "../core/index.js";

interface SecretFile {
  /** base64 of safeStorage ciphertext; absent when no key is stored. */
  secret?: string;
}

const NO_OS_ENCRYPTION =
  "The system's secure storage (keychain) is unavailable, so Burrow cannot store your private key and signing in fails. " +
  "Unlock or set up your keychain, then restart Burrow.";

const BASIC_TEXT_NOTICE =
  "No system keyring (GNOME Keyring or KWallet) was found, so your private key is stored on disk obfuscated, not encrypted: " +
  "anyone who can read your files can read it.";

/**
 * Operations run one at a time in call order (as the core's FileSecretStore does), so a clear() issued
 * while a save() is still encrypting always wins.
 */
export class ElectronSecretStore implements SecretStore {
  private queue: Promise<unknown> = Promise.resolve();
  private opened: Store<SecretFile> | null = null;

  private constructor(
    readonly kind: "os_encrypted" | "plain_file",
    readonly notice: string | null,
  ) {}

  /**
   * Call after `app` is ready: before that, Linux cannot tell which keyring backs safeStorage and
   * Windows cannot encrypt at all.
   */
  static async open(): Promise<ElectronSecretStore> {
    const encryptionAvailable = await safeStorage.isAsyncEncryptionAvailable();
    // With the basic_text backend Chromium "encrypts" with a hard-coded password: plain storage in effect.
    const plainText = process.platform === "linux" && safeStorage.getSelectedStorageBackend() === "basic_text";
    if (!encryptionAvailable) return new ElectronSecretStore("os_encrypted", NO_OS_ENCRYPTION);
    if (plainText) return new ElectronSecretStore("plain_file", BASIC_TEXT_NOTICE);
    return new ElectronSecretStore("os_encrypted", null);
  }

  /** Throws when a key is stored but cannot be decrypted (keyring locked, changed or missing), so the caller can say so instead of showing a fresh start. */
  load(): Promise<string | null> {
    return this.serial(async () => {
      const stored = this.file().get("secret");
      if (typeof stored !== "string" || stored === "") return null;
      if (!(await safeStorage.isAsyncEncryptionAvailable())) {
        throw new Error("a saved key exists but the system's secure storage is unavailable, so it cannot be decrypted");
      }
      const { result, shouldReEncrypt } = await safeStorage.decryptStringAsync(Buffer.from(stored, "base64"));
      if (shouldReEncrypt) await this.write(result);
      return result;
    });
  }

  save(secretHex: string): Promise<void> {
    return this.serial(() => this.write(secretHex));
  }

  clear(): Promise<void> {
    return this.serial(async () => this.file().delete("secret"));
  }

  private async write(secretHex: string): Promise<void> {
    // Refuse rather than fall back to plaintext: the OS keychain is this store's whole point.
    if (!(await safeStorage.isAsyncEncryptionAvailable())) {
      throw new Error("the system's secure storage (keychain) is unavailable");
    }
    const ciphertext = await safeStorage.encryptStringAsync(secretHex);
    this.file().set("secret", ciphertext.toString("base64"));
  }

  /**
   * Opened on first use, inside an operation: a damaged file then fails that operation (the core
   * shows it) instead of the app's start. It is never cleared automatically, since it may hold the only copy of the key.
   */
  private file(): Store<SecretFile> {
    this.opened ??= new Store<SecretFile>({ name: "secret-key", clearInvalidConfig: false });
    return this.opened;
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
