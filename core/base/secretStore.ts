import { mkdir, open, readFile, rename, rm, chmod } from "node:fs/promises";
import { join } from "node:path";

/** Where the account's private key is kept between runs. The key never enters AppState or logs. */
export interface SecretStore {
  readonly kind: "os_encrypted" | "plain_file";
  /** Shown to the user when the storage is weaker than the OS keychain; null otherwise. */
  readonly notice: string | null;
  load(): Promise<string | null>;
  save(secretHex: string): Promise<void>;
  clear(): Promise<void>;
}

export const PLAIN_FILE_NOTICE =
  "Your private key is stored in a file readable only by your user account, but it is not encrypted by the operating system. Use the desktop app for OS-encrypted key storage.";

const HEX_KEY = /^[0-9a-f]{64}$/;

/**
 * The Node host's store: a file with mode 0600 in the data dir. Writes go to a temp file that is
 * renamed over the old one, so a kill mid-write leaves either the old or the new key, never half.
 * Operations run one at a time in call order, so a clear() issued after a save() always wins.
 */
export class FileSecretStore implements SecretStore {
  readonly kind = "plain_file" as const;
  readonly notice = PLAIN_FILE_NOTICE;
  private readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataDir: string) {
    this.path = join(dataDir, "secret-key");
  }

  load(): Promise<string | null> {
    return this.serial(async () => {
      let text: string;
      try {
        text = await readFile(this.path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
      const key = text.trim();
      if (!HEX_KEY.test(key)) throw new Error(`the stored key file ${this.path} is damaged`);
      return key;
    });
  }

  save(secretHex: string): Promise<void> {
    if (!HEX_KEY.test(secretHex)) return Promise.reject(new Error("refusing to store a malformed key"));
    return this.serial(async () => {
      await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
      const temp = `${this.path}.${process.pid}.tmp`;
      const file = await open(temp, "w", 0o600);
      try {
        await file.writeFile(`${secretHex}\n`, "utf8");
        await file.sync();
      } finally {
        await file.close();
      }
      await chmod(temp, 0o600);
      await rename(temp, this.path);
    });
  }

  clear(): Promise<void> {
    return this.serial(() => rm(this.path, { force: true }));
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
