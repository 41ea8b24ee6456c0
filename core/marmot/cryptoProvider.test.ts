import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  defaultCryptoProvider,
  defaultProposalTypes,
  joinGroup,
  processMessage,
  type CiphersuiteImpl,
  type ClientState,
  type CryptoProvider,
  type MlsFramedMessage,
} from "ts-mls";
import { DEFAULT_CIPHERSUITE, getCiphersuite, marmotCryptoProvider } from "./cryptoProvider.js";
import { marmotAuthService } from "./group.js";
import { generateKeyPackage } from "./keyPackage.js";
import { MarmotError } from "./errors.js";

const utf8 = new TextEncoder();

async function both(): Promise<[CiphersuiteImpl, CiphersuiteImpl]> {
  return [await getCiphersuite(DEFAULT_CIPHERSUITE), await defaultCryptoProvider.getCiphersuiteImpl(DEFAULT_CIPHERSUITE)];
}

test("ed25519_signatures_interoperate_with_the_default_provider_both_ways", async () => {
  const [ours, theirs] = await both();
  const message = utf8.encode("MLS 1.0 signed content");
  const ourKeys = await ours.signature.keygen();
  const theirKeys = await theirs.signature.keygen();
  assert.equal(ourKeys.signKey.length, theirKeys.signKey.length, "same PKCS8 signing key format");
  assert.equal(ourKeys.publicKey.length, 32);

  assert.ok(await theirs.signature.verify(ourKeys.publicKey, message, await ours.signature.sign(ourKeys.signKey, message)));
  assert.ok(await ours.signature.verify(theirKeys.publicKey, message, await theirs.signature.sign(theirKeys.signKey, message)));
  assert.deepEqual(await ours.signature.sign(theirKeys.signKey, message), await theirs.signature.sign(theirKeys.signKey, message));
  const signature = await ours.signature.sign(ourKeys.signKey, message);
  assert.equal(await ours.signature.verify(ourKeys.publicKey, utf8.encode("other"), signature), false);
  assert.equal(await ours.signature.verify(ourKeys.publicKey, message, signature.slice(1)), false);
});

test("hash_mac_and_hkdf_match_the_default_provider", async () => {
  const [ours, theirs] = await both();
  const data = utf8.encode("data");
  const key = utf8.encode("key material that is long enough");
  assert.deepEqual(await ours.hash.digest(data), await theirs.hash.digest(data));
  const mac = await ours.hash.mac(key, data);
  assert.deepEqual(mac, await theirs.hash.mac(key, data));
  assert.ok(await ours.hash.verifyMac(key, mac, data));
  assert.equal(await ours.hash.verifyMac(key, mac, utf8.encode("datb")), false);
  for (const salt of [new Uint8Array(0), key]) {
    assert.deepEqual(await ours.kdf.extract(salt, data), await theirs.kdf.extract(salt, data));
  }
  for (const length of [12, 16, 32, 33, 76, 100]) {
    assert.deepEqual(await ours.kdf.expand(key, data, length), await theirs.kdf.expand(key, data, length));
  }
});

test("aes_gcm_aead_matches_the_default_provider_and_rejects_forgeries", async () => {
  const [ours, theirs] = await both();
  const key = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  for (const aad of [undefined, new Uint8Array(0), utf8.encode("aad")]) {
    const plain = utf8.encode("application data");
    const sealed = await ours.hpke.encryptAead(key, nonce, aad, plain);
    assert.deepEqual(sealed, await theirs.hpke.encryptAead(key, nonce, aad, plain));
    assert.deepEqual(await theirs.hpke.decryptAead(key, nonce, aad, sealed), plain);
    assert.deepEqual(await ours.hpke.decryptAead(key, nonce, aad, sealed), plain);
    sealed[0] = (sealed[0] ?? 0) ^ 1;
    await assert.rejects(ours.hpke.decryptAead(key, nonce, aad, sealed));
  }
  await assert.rejects(ours.hpke.decryptAead(key, nonce, undefined, new Uint8Array(5)));
});

test("unknown_ciphersuite_is_a_typed_error", async () => {
  await assert.rejects(getCiphersuite(0x7777), (error: unknown) => error instanceof MarmotError && error.code === "unsupported_ciphersuite");
});

/** Two-member group on plain ts-mls with a given provider, to compare providers. */
async function pairOn(provider: CryptoProvider): Promise<{ alice: ClientState; bob: ClientState; context: { cipherSuite: CiphersuiteImpl; authService: typeof marmotAuthService } }> {
  const context = { cipherSuite: await provider.getCiphersuiteImpl(DEFAULT_CIPHERSUITE), authService: marmotAuthService };
  const aliceKp = await generateKeyPackage("a".repeat(64));
  const bobKp = await generateKeyPackage("b".repeat(64));
  const initial = await createGroup({ context, groupId: crypto.getRandomValues(new Uint8Array(32)), keyPackage: aliceKp.publicPackage, privateKeyPackage: aliceKp.privatePackage });
  const added = await createCommit({
    context,
    state: initial,
    extraProposals: [{ proposalType: defaultProposalTypes.add, add: { keyPackage: bobKp.publicPackage } }],
    ratchetTreeExtension: true,
  });
  assert.ok(added.welcome);
  const bob = await joinGroup({ context, welcome: added.welcome.welcome, keyPackage: bobKp.publicPackage, privateKeys: bobKp.privatePackage });
  return { alice: added.newState, bob, context };
}

test("prints_mls_throughput_with_default_and_marmot_providers", async () => {
  const rounds = 300;
  const payload = new Uint8Array(100).fill(0x61);
  const figures: string[] = [];
  for (const [name, provider] of [
    ["ts-mls default", defaultCryptoProvider],
    ["marmot", marmotCryptoProvider],
  ] as const) {
    const pair = await pairOn(provider);
    const context = pair.context;
    let alice = pair.alice;
    let bob = pair.bob;
    const messages: MlsFramedMessage[] = [];
    let started = performance.now();
    for (let index = 0; index < rounds; index++) {
      const result = await createApplicationMessage({ context, state: alice, message: payload });
      alice = result.newState;
      messages.push(result.message);
    }
    const encryptRate = rounds / ((performance.now() - started) / 1000);
    started = performance.now();
    for (const message of messages) {
      const result = await processMessage({ context, state: bob, message });
      assert.equal(result.kind, "applicationMessage");
      bob = result.newState;
    }
    const decryptRate = rounds / ((performance.now() - started) / 1000);
    figures.push(`${name}: encrypt ${encryptRate.toFixed(0)}/s, decrypt ${decryptRate.toFixed(0)}/s`);
  }
  console.log(`MLS application messages (100 B, ${rounds} each): ${figures.join("; ")}`);
});
