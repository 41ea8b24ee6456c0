// The baseline of the messaging benchmark: raw ts-mls with its default crypto provider, no Marmot
// layer, no storage: what Burrow's own pipelines are compared against.
import { randomBytes } from "node:crypto";
import {
  createApplicationMessage,
  createCommit,
  createGroup as mlsCreateGroup,
  decode,
  defaultCapabilities,
  defaultCredentialTypes,
  defaultCryptoProvider,
  defaultProposalTypes,
  encode,
  generateKeyPackage as mlsGenerateKeyPackage,
  joinGroup,
  mlsMessageDecoder,
  mlsMessageEncoder,
  processMessage,
  unsafeTestingAuthenticationService,
  wireformats,
  type ClientState,
  type MlsContext,
  type MlsFramedMessage,
} from "ts-mls";

export interface BaselineOptions {
  messages: number;
  runs: number;
  warmup: number;
  texts(count: number, tag: string): string[];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const utf8 = new TextEncoder();
const elapsed = (since: number): number => (performance.now() - since) / 1000;

/** Encrypt and decrypt rates (messages per second, median of `runs`) between two raw ts-mls members. */
export async function tsMlsBaseline({ messages: MESSAGES, runs: RUNS, warmup: WARMUP, texts }: BaselineOptions): Promise<{ encrypt: number; decrypt: number; encryptRates: number[]; decryptRates: number[] }> {
  const cipherSuite = await defaultCryptoProvider.getCiphersuiteImpl(0x0001);
  const context: MlsContext = { cipherSuite, authService: unsafeTestingAuthenticationService };
  const member = () =>
    mlsGenerateKeyPackage({ credential: { credentialType: defaultCredentialTypes.basic, identity: randomBytes(32) }, capabilities: defaultCapabilities(), cipherSuite });
  const a = await member();
  const b = await member();
  let alice: ClientState = await mlsCreateGroup({ context, groupId: randomBytes(32), keyPackage: a.publicPackage, privateKeyPackage: a.privatePackage });
  const commit = await createCommit({ context, state: alice, extraProposals: [{ proposalType: defaultProposalTypes.add, add: { keyPackage: b.publicPackage } }], ratchetTreeExtension: true });
  alice = commit.newState;
  let bob = await joinGroup({ context, welcome: commit.welcome!.welcome, keyPackage: b.publicPackage, privateKeys: b.privatePackage });

  const encryptAll = async (plain: Uint8Array[]): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = [];
    for (const message of plain) {
      const result = await createApplicationMessage({ context, state: alice, message });
      alice = result.newState;
      out.push(encode(mlsMessageEncoder, result.message));
    }
    return out;
  };
  const decryptAll = async (wire: Uint8Array[]): Promise<void> => {
    for (const bytes of wire) {
      const message = decode(mlsMessageDecoder, bytes);
      if (message === undefined || message.wireformat !== wireformats.mls_private_message) throw new Error("baseline: not a private message");
      const result = await processMessage({ context, state: bob, message: message as MlsFramedMessage });
      if (result.kind !== "applicationMessage") throw new Error("baseline: not an application message");
      bob = result.newState;
    }
  };
  await decryptAll(await encryptAll(texts(WARMUP, "warmup").map((t) => utf8.encode(t))));
  const encryptRates: number[] = [];
  const decryptRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const plain = texts(MESSAGES, `baseline ${run}`).map((t) => utf8.encode(t));
    let t = performance.now();
    const wire = await encryptAll(plain);
    encryptRates.push(MESSAGES / elapsed(t));
    t = performance.now();
    await decryptAll(wire);
    decryptRates.push(MESSAGES / elapsed(t));
  }
  const encrypt = median(encryptRates);
  const decrypt = median(decryptRates);
  return { encrypt, decrypt, encryptRates, decryptRates };
}
