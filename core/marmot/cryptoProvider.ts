/**
 * ts-mls crypto provider for Marmot. For the SHA-256 / Ed25519 suites (0x0001,
 * the Marmot default, and 0x0003) signatures, hashes, HMAC and HKDF (and for
 * 0x0001 the AES-128-GCM message AEAD) run on node:crypto synchronously, with
 * Ed25519 key objects cached: ts-mls' default re-imports the PKCS8 signing key
 * through WebCrypto on every signature (~1 ms). HPKE stays ts-mls' own.
 * Key formats are the default provider's (PKCS8 signing keys, raw public keys),
 * so stored states and key packages stay readable by either provider.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  timingSafeEqual,
  verify as edVerify,
  type KeyObject,
} from "node:crypto";
import { defaultCryptoProvider, type CiphersuiteImpl, type CryptoProvider, type Hash, type Hpke, type Kdf, type Signature } from "ts-mls";
import { MarmotError, describeError } from "./errors.js";

/** MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, the Marmot default. */
export const DEFAULT_CIPHERSUITE = 0x0001;

/** Suites whose hash is SHA-256 and signature Ed25519 (RFC 9420 §17.1). */
const SHA256_ED25519_SUITES = new Set([0x0001, 0x0003]);

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const SIGN_KEY_CACHE_SIZE = 64;
const VERIFY_KEY_CACHE_SIZE = 1024;

class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity: number) {}

  getOrCreate(key: string, create: () => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = create();
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
    return value;
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function makeEd25519Signature(): Signature {
  const signKeys = new BoundedCache<KeyObject>(SIGN_KEY_CACHE_SIZE);
  const verifyKeys = new BoundedCache<KeyObject>(VERIFY_KEY_CACHE_SIZE);

  const privateKeyOf = (signKey: Uint8Array): KeyObject =>
    signKeys.getOrCreate(toBuffer(signKey).toString("base64"), () => {
      const der = signKey.length === 32 ? Buffer.concat([PKCS8_ED25519_PREFIX, signKey]) : toBuffer(signKey);
      return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    });
  const publicKeyOf = (publicKey: Uint8Array): KeyObject =>
    verifyKeys.getOrCreate(toBuffer(publicKey).toString("base64"), () =>
      createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: "der", type: "spki" }),
    );

  return {
    async sign(signKey, message) {
      return toBytes(edSign(null, message, privateKeyOf(signKey)));
    },
    async verify(publicKey, message, signature) {
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      try {
        return edVerify(null, message, publicKeyOf(publicKey), signature);
      } catch {
        return false;
      }
    },
    async keygen() {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const spki = publicKey.export({ format: "der", type: "spki" });
      return {
        signKey: toBytes(privateKey.export({ format: "der", type: "pkcs8" })),
        publicKey: toBytes(spki.subarray(SPKI_ED25519_PREFIX.length)),
      };
    },
  };
}

const sha256Hash: Hash = {
  async digest(data) {
    return toBytes(createHash("sha256").update(data).digest());
  },
  async mac(key, data) {
    return toBytes(createHmac("sha256", key).update(data).digest());
  },
  async verifyMac(key, mac, data) {
    const expected = createHmac("sha256", key).update(data).digest();
    return mac.length === expected.length && timingSafeEqual(expected, mac);
  },
};

/** HKDF-SHA256 (RFC 5869) split into extract and expand, as MLS uses them. */
const hkdfSha256: Kdf = {
  size: 32,
  async extract(salt, ikm) {
    return toBytes(createHmac("sha256", salt).update(ikm).digest());
  },
  async expand(prk, info, len) {
    if (len > 255 * 32) throw new Error("HKDF-Expand length too large");
    const out = new Uint8Array(len);
    let previous: Buffer = Buffer.alloc(0);
    for (let offset = 0, counter = 1; offset < len; counter++) {
      previous = createHmac("sha256", prk).update(previous).update(info).update(Uint8Array.of(counter)).digest();
      out.set(previous.subarray(0, Math.min(32, len - offset)), offset);
      offset += 32;
    }
    return out;
  },
};

const GCM_TAG_BYTES = 16;

/** MLS content and sender-data AEAD for AES-128-GCM (suite 0x0001) without a WebCrypto key import per call. */
function withAes128Gcm(hpke: Hpke): Hpke {
  return {
    ...hpke,
    async encryptAead(key, nonce, aad, plaintext) {
      const cipher = createCipheriv("aes-128-gcm", key, nonce, { authTagLength: GCM_TAG_BYTES });
      if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
      return toBytes(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      if (ciphertext.length < GCM_TAG_BYTES) throw new Error("AEAD ciphertext too short");
      const decipher = createDecipheriv("aes-128-gcm", key, nonce, { authTagLength: GCM_TAG_BYTES });
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_BYTES));
      if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
      return toBytes(Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - GCM_TAG_BYTES)), decipher.final()]));
    },
  };
}

async function buildCiphersuite(id: number): Promise<CiphersuiteImpl> {
  const base = await defaultCryptoProvider.getCiphersuiteImpl(id);
  if (!SHA256_ED25519_SUITES.has(id)) return base;
  const hpke = id === DEFAULT_CIPHERSUITE ? withAes128Gcm(base.hpke) : base.hpke;
  return { ...base, signature: makeEd25519Signature(), hash: sha256Hash, kdf: hkdfSha256, hpke };
}

const suites = new Map<number, Promise<CiphersuiteImpl>>();

/** The provider to hand to ts-mls; implementations are built once per suite. */
export const marmotCryptoProvider: CryptoProvider = {
  getCiphersuiteImpl(id: number): Promise<CiphersuiteImpl> {
    let suite = suites.get(id);
    if (suite === undefined) {
      suite = buildCiphersuite(id);
      suites.set(id, suite);
      suite.catch(() => suites.delete(id));
    }
    return suite;
  },
};

/** The implementation of ciphersuite `id`; rejects with `unsupported_ciphersuite`. */
export async function getCiphersuite(id: number = DEFAULT_CIPHERSUITE): Promise<CiphersuiteImpl> {
  try {
    return await marmotCryptoProvider.getCiphersuiteImpl(id);
  } catch (error) {
    throw new MarmotError("unsupported_ciphersuite", `Ciphersuite 0x${id.toString(16).padStart(4, "0")} is not supported: ${describeError(error)}`, {
      cause: error,
    });
  }
}
