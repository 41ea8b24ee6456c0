// The agent keys are stored encrypted (XChaCha20-Poly1305) with the server's own key: from
// BURROW_SERVER_SECRET (64 hex, required when several servers share a database) or a 0600 file in
// the data dir, made on first start.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

const NONCE_BYTES = 24;
const HEX_KEY = /^[0-9a-f]{64}$/;

export class SecretBox {
  private constructor(private readonly key: Uint8Array) {}

  static fromHex(hex: string): SecretBox {
    if (!HEX_KEY.test(hex)) throw new Error("the server secret must be 64 lowercase hex characters");
    return new SecretBox(hexToBytes(hex));
  }

  /** BURROW_SERVER_SECRET when set, else `<dataDir>/server-secret` (created once, mode 0600). */
  static async load(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SecretBox> {
    const fromEnv = env["BURROW_SERVER_SECRET"];
    if (fromEnv) return SecretBox.fromHex(fromEnv.trim().toLowerCase());
    const path = join(dataDir, "server-secret");
    try {
      return SecretBox.fromHex((await readFile(path, "utf8")).trim());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const hex = bytesToHex(randomBytes(32));
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${hex}\n`, { mode: 0o600 });
    try {
      // link() never replaces an existing file: when two processes race, the first key stays.
      await link(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      await unlink(temp);
    }
    return SecretBox.fromHex((await readFile(path, "utf8")).trim());
  }

  seal(plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const sealed = xchacha20poly1305(this.key, nonce).encrypt(new TextEncoder().encode(plaintext));
    return `${bytesToHex(nonce)}:${bytesToHex(sealed)}`;
  }

  open(box: string): string {
    const [nonce, sealed] = box.split(":");
    if (!nonce || !sealed) throw new Error("malformed sealed secret");
    return new TextDecoder().decode(xchacha20poly1305(this.key, hexToBytes(nonce)).decrypt(hexToBytes(sealed)));
  }
}
