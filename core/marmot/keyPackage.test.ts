import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { base64 } from "@scure/base";
import { bytesToHex } from "@noble/hashes/utils.js";
import { encode, keyPackageEncoder } from "ts-mls";
import { MarmotError } from "./errors.js";
import {
  deserializeKeyPackageBundle,
  generateKeyPackage,
  keyPackageDeletionTemplate,
  keyPackageEventTemplates,
  keyPackageRef,
  keyPackageRelayListRelays,
  keyPackageRelayListTemplate,
  parseKeyPackageEvent,
  selectKeyPackage,
  serializeKeyPackageBundle,
} from "./keyPackage.js";
import { generateSecretKey, getPublicKey, signEvent, type EventTemplate } from "./nostrCrypto.js";

const relays = ["wss://relay.one", "wss://relay.two"];
const SLOT = "5a".repeat(32);

async function identity() {
  const secretKey = generateSecretKey();
  const pubkey = getPublicKey(secretKey);
  const bundle = await generateKeyPackage(pubkey);
  const templates = await keyPackageEventTemplates(bundle.publicPackage, SLOT, { relays, client: "Burrow", createdAt: 1_750_000_000 });
  return { secretKey, pubkey, bundle, templates };
}

function isCode(code: string) {
  return (error: unknown): boolean => error instanceof MarmotError && error.code === code;
}

test("kind_443_and_30443_templates_carry_exactly_the_protocol_tags", async () => {
  const { bundle, templates } = await identity();
  const tags = [
    ["mls_protocol_version", "1.0"],
    ["mls_ciphersuite", "0x0001"],
    ["mls_extensions", "0xf2ee", "0x000a"],
    ["encoding", "base64"],
    ["i", await keyPackageRef(bundle.publicPackage)],
    ["client", "Burrow"],
    ["relays", ...relays],
  ];
  assert.deepEqual(templates.legacy, {
    kind: 443,
    created_at: 1_750_000_000,
    content: base64.encode(encode(keyPackageEncoder, bundle.publicPackage)),
    tags,
  });
  assert.deepEqual(templates.addressable, { ...templates.legacy, kind: 30443, tags: [["d", SLOT], ...tags] });
  const protectedTemplates = await keyPackageEventTemplates(bundle.publicPackage, SLOT, { relays, client: "Burrow", protected: true });
  assert.deepEqual(protectedTemplates.legacy.tags.at(-1), ["-"]);
  await assert.rejects(keyPackageEventTemplates(bundle.publicPackage, "slot-1", { relays, client: "Burrow" }), isCode("invalid_event"));
  await assert.rejects(keyPackageEventTemplates(bundle.publicPackage, SLOT, { relays: [], client: "Burrow" }), isCode("invalid_event"));
  await assert.rejects(keyPackageEventTemplates(bundle.publicPackage, SLOT, { relays: ["wss://u:p@relay.one"], client: "Burrow" }), isCode("invalid_event"));
  await assert.rejects(keyPackageEventTemplates(bundle.publicPackage, SLOT, { relays, client: "" }), isCode("invalid_event"));
});

test("generated_key_package_has_marmot_capabilities_and_last_resort", async () => {
  const { pubkey, bundle } = await identity();
  const leaf = bundle.publicPackage.leafNode;
  assert.equal(bytesToHex("identity" in leaf.credential ? leaf.credential.identity : new Uint8Array()), pubkey);
  assert.deepEqual(leaf.capabilities.extensions, [0xf2ee, 0x000a]);
  assert.deepEqual(leaf.capabilities.ciphersuites, [1]);
  assert.deepEqual(
    bundle.publicPackage.extensions.map((extension) => extension.extensionType),
    [0x000a],
  );
});

test("a_published_key_package_event_parses_back_to_the_same_key_package", async () => {
  const { secretKey, pubkey, bundle, templates } = await identity();
  for (const template of [templates.legacy, templates.addressable]) {
    const event = signEvent(template, secretKey);
    const parsed = await parseKeyPackageEvent(event);
    assert.equal(parsed.pubkey, pubkey);
    assert.deepEqual(encode(keyPackageEncoder, parsed.keyPackage), encode(keyPackageEncoder, bundle.publicPackage));
    assert.equal(parsed.ref, await keyPackageRef(bundle.publicPackage));
    assert.deepEqual(parsed.relays, relays);
    assert.equal(parsed.client, "Burrow");
    assert.equal(parsed.identifier, template.kind === 30443 ? SLOT : undefined);
  }
});

function withTags(template: EventTemplate, edit: (tags: string[][]) => string[][]): EventTemplate {
  return { ...template, tags: edit(template.tags.map((tag) => [...tag])) };
}

test("rejects_hex_encoding_and_a_missing_encoding_tag", async () => {
  const { secretKey, bundle, templates } = await identity();
  const hexContent = bytesToHex(encode(keyPackageEncoder, bundle.publicPackage));
  const hexTagged = withTags({ ...templates.legacy, content: hexContent }, (tags) => tags.map((tag) => (tag[0] === "encoding" ? ["encoding", "hex"] : tag)));
  await assert.rejects(parseKeyPackageEvent(signEvent(hexTagged, secretKey)), isCode("invalid_key_package"));
  const untagged = withTags(templates.legacy, (tags) => tags.filter((tag) => tag[0] !== "encoding"));
  await assert.rejects(parseKeyPackageEvent(signEvent(untagged, secretKey)), (error: unknown) => isCode("invalid_key_package")(error) && /missing encoding/.test(String(error)));
});

test("rejects_a_key_package_whose_identity_is_not_the_event_author", async () => {
  const alice = await identity();
  const mallory = generateSecretKey();
  await assert.rejects(parseKeyPackageEvent(signEvent(alice.templates.legacy, mallory)), isCode("identity_mismatch"));
});

test("rejects_bad_event_and_key_package_signatures_and_wrong_kinds", async () => {
  const { secretKey, templates, bundle } = await identity();
  const event = signEvent(templates.legacy, secretKey);
  await assert.rejects(parseKeyPackageEvent({ ...event, content: event.content.replace(/^./, (c) => (c === "A" ? "B" : "A")) }), isCode("bad_signature"));

  const bytes = encode(keyPackageEncoder, bundle.publicPackage);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
  const forged = signEvent({ ...templates.legacy, content: base64.encode(bytes) }, secretKey);
  await assert.rejects(parseKeyPackageEvent(forged), (error: unknown) => isCode("bad_signature")(error) && /MLS signature/.test(String(error)));

  await assert.rejects(parseKeyPackageEvent(signEvent({ ...templates.legacy, kind: 1 }, secretKey)), isCode("invalid_key_package"));
  const trailing = signEvent({ ...templates.legacy, content: base64.encode(new Uint8Array([...encode(keyPackageEncoder, bundle.publicPackage), 0])) }, secretKey);
  await assert.rejects(parseKeyPackageEvent(trailing), isCode("invalid_key_package"));
  const expired = await parseKeyPackageEvent(event, new Date(Date.now() + 200 * 24 * 3600 * 1000)).catch((error: unknown) => error);
  assert.ok(isCode("invalid_key_package")(expired));
});

test("select_key_package_takes_the_newest_valid_event", async () => {
  const { secretKey, templates } = await identity();
  const older = signEvent(templates.legacy, secretKey);
  const newest = signEvent({ ...templates.addressable, created_at: templates.addressable.created_at + 10 }, secretKey);
  const broken = signEvent(withTags({ ...templates.legacy, created_at: templates.legacy.created_at + 20 }, (tags) => tags.filter((tag) => tag[0] !== "encoding")), secretKey);
  assert.equal((await selectKeyPackage([older, broken, newest])).event.id, newest.id);
  await assert.rejects(selectKeyPackage([broken]), isCode("invalid_key_package"));
});

test("private_bundle_round_trips_through_storage_bytes", async () => {
  const { bundle } = await identity();
  const restored = deserializeKeyPackageBundle(serializeKeyPackageBundle(bundle));
  assert.deepEqual(encode(keyPackageEncoder, restored.publicPackage), encode(keyPackageEncoder, bundle.publicPackage));
  assert.deepEqual(restored.privatePackage.signaturePrivateKey, bundle.privatePackage.signaturePrivateKey);
  assert.deepEqual(restored.privatePackage.initPrivateKey, bundle.privatePackage.initPrivateKey);
  assert.deepEqual(restored.privatePackage.hpkePrivateKey, bundle.privatePackage.hpkePrivateKey);
  const bytes = serializeKeyPackageBundle(bundle);
  assert.throws(() => deserializeKeyPackageBundle(bytes.subarray(0, bytes.length - 1)), isCode("corrupt_storage"));
  assert.throws(() => deserializeKeyPackageBundle(new Uint8Array([9, 9])), isCode("corrupt_storage"));
});

test("relay_list_and_deletion_templates_have_the_nip_tags", async () => {
  assert.deepEqual(keyPackageRelayListTemplate(relays, 5), {
    kind: 10051,
    created_at: 5,
    content: "",
    tags: [
      ["relay", "wss://relay.one"],
      ["relay", "wss://relay.two"],
    ],
  });
  const pubkey = "ab".repeat(32);
  const deletion = keyPackageDeletionTemplate(
    [
      { id: "11".repeat(32), kind: 443, pubkey, tags: [] },
      { id: "22".repeat(32), kind: 30443, pubkey, tags: [["d", SLOT]] },
    ],
    7,
  );
  assert.deepEqual(deletion, {
    kind: 5,
    created_at: 7,
    content: "",
    tags: [
      ["e", "11".repeat(32)],
      ["e", "22".repeat(32)],
      ["a", `30443:${pubkey}:${SLOT}`],
      ["k", "443"],
      ["k", "30443"],
    ],
  });
  assert.throws(() => keyPackageDeletionTemplate([{ id: "33".repeat(32), kind: 1, pubkey, tags: [] }]), isCode("invalid_event"));
});

describe("unit: key package tags", () => {
  const rejectsWith = async (template: EventTemplate, secretKey: Uint8Array, message: RegExp) =>
    assert.rejects(parseKeyPackageEvent(signEvent(template, secretKey)), (error: unknown) => isCode("invalid_key_package")(error) && message.test(String(error)));

  test("published_key_packages_carry_one_i_tag_with_the_computed_ref", async () => {
    const { secretKey, bundle, templates } = await identity();
    const ref = await keyPackageRef(bundle.publicPackage);
    for (const template of [templates.legacy, templates.addressable]) {
      assert.deepEqual(template.tags.filter((tag) => tag[0] === "i"), [["i", ref]]);
      for (const name of ["mls_protocol_version", "mls_ciphersuite", "mls_extensions", "encoding", "client", "relays"]) {
        assert.equal(template.tags.filter((tag) => tag[0] === name).length, 1, name);
      }
      assert.equal((await parseKeyPackageEvent(signEvent(template, secretKey))).ref, ref);
    }
    assert.deepEqual(templates.addressable.tags.filter((tag) => tag[0] === "d"), [["d", SLOT]]);
  });

  test("a_key_package_without_i_is_read_with_the_computed_ref", async () => {
    const { secretKey, bundle, templates } = await identity();
    for (const template of [templates.legacy, templates.addressable]) {
      const older = withTags(template, (tags) => tags.filter((tag) => tag[0] !== "i"));
      assert.equal((await parseKeyPackageEvent(signEvent(older, secretKey))).ref, await keyPackageRef(bundle.publicPackage));
    }
  });

  test("a_wrong_i_is_rejected", async () => {
    const { secretKey, templates } = await identity();
    const wrong = withTags(templates.addressable, (tags) => tags.map((tag) => (tag[0] === "i" ? ["i", "00".repeat(32)] : tag)));
    await rejectsWith(wrong, secretKey, /i tag 0000000000000000 is not the KeyPackageRef/);
    const upper = withTags(templates.legacy, (tags) => tags.map((tag) => (tag[0] === "i" ? ["i", (tag[1] ?? "").toUpperCase()] : tag)));
    await rejectsWith(upper, secretKey, /is not the KeyPackageRef/);
  });

  test("a_repeated_or_extra_valued_i_is_rejected", async () => {
    const { secretKey, bundle, templates } = await identity();
    const ref = await keyPackageRef(bundle.publicPackage);
    await rejectsWith(withTags(templates.legacy, (tags) => [...tags, ["i", ref]]), secretKey, /2 i tags/);
    await rejectsWith(withTags(templates.legacy, (tags) => tags.map((tag) => (tag[0] === "i" ? ["i", ref, ref] : tag))), secretKey, /i tag must have exactly one non-empty value, has 2/);
  });

  test("a_repeated_encoding_is_rejected", async () => {
    const { secretKey, templates } = await identity();
    await rejectsWith(withTags(templates.legacy, (tags) => [...tags, ["encoding", "base64"]]), secretKey, /2 encoding tags/);
  });

  test("an_extra_value_in_mls_ciphersuite_is_rejected", async () => {
    const { secretKey, templates } = await identity();
    const extra = withTags(templates.legacy, (tags) => tags.map((tag) => (tag[0] === "mls_ciphersuite" ? ["mls_ciphersuite", "0x0001", "0x0003"] : tag)));
    await rejectsWith(extra, secretKey, /mls_ciphersuite tag must have exactly one non-empty value, has 2/);
  });

  test("two_relays_tags_are_rejected", async () => {
    const { secretKey, templates } = await identity();
    await rejectsWith(withTags(templates.legacy, (tags) => [...tags, ["relays", "wss://relay.three"]]), secretKey, /2 relays tags/);
  });

  test("missing_required_tags_and_repeated_optional_ones_are_rejected", async () => {
    const { secretKey, templates } = await identity();
    for (const name of ["mls_protocol_version", "mls_ciphersuite", "mls_extensions", "relays"]) {
      await rejectsWith(withTags(templates.legacy, (tags) => tags.filter((tag) => tag[0] !== name)), secretKey, new RegExp(`missing ${name} tag`));
    }
    await rejectsWith(withTags(templates.addressable, (tags) => tags.filter((tag) => tag[0] !== "d")), secretKey, /missing d tag/);
    await rejectsWith(withTags(templates.addressable, (tags) => [...tags, ["d", "11".repeat(32)]]), secretKey, /2 d tags/);
    await rejectsWith(withTags(templates.legacy, (tags) => tags.map((tag) => (tag[0] === "relays" ? ["relays"] : tag))), secretKey, /relays tag has no value/);
    await rejectsWith(withTags(templates.legacy, (tags) => tags.map((tag) => (tag[0] === "mls_protocol_version" ? [tag[0], "2.0"] : tag))), secretKey, /is not 1\.0/);
    await rejectsWith(withTags(templates.legacy, (tags) => [...tags, ["client", "Other"]]), secretKey, /2 client tags/);
  });

  test("a_key_package_without_client_is_accepted", async () => {
    const { secretKey, templates } = await identity();
    const parsed = await parseKeyPackageEvent(signEvent(withTags(templates.legacy, (tags) => tags.filter((tag) => tag[0] !== "client")), secretKey));
    assert.equal(parsed.client, undefined);
  });

  test("key_packages_shaped_like_marmot_ts_0_5_1_and_mdk_0_7_are_accepted", async () => {
    const { secretKey, bundle, templates } = await identity();
    const ref = await keyPackageRef(bundle.publicPackage);
    // marmot-ts 0.5.1 createKeyPackageEvent: 30443 only, d = its clientId, no client unless asked, relays through URL.toString().
    const marmotTs = signEvent(
      {
        ...templates.addressable,
        tags: [
          ["d", "my-app-desktop"],
          ["mls_protocol_version", "1.0"],
          ["mls_ciphersuite", "0x0001"],
          ["mls_extensions", "0x000a", "0xf2ee"],
          ["encoding", "base64"],
          ["i", ref],
          ["relays", "wss://relay.one/"],
        ],
      },
      secretKey,
    );
    const parsed = await parseKeyPackageEvent(marmotTs);
    assert.equal(parsed.identifier, "my-app-desktop");
    assert.deepEqual(parsed.relays, ["wss://relay.one/"]);
    // MDK 0.7 create_key_package_for_event: kind 443, its own tag order.
    const mdk = signEvent(
      {
        ...templates.legacy,
        tags: [
          ["mls_protocol_version", "1.0"],
          ["mls_ciphersuite", "0x0001"],
          ["mls_extensions", "0x000a", "0xf2ee"],
          ["relays", ...relays],
          ["i", ref],
          ["client", "MDK/0.7.1"],
          ["encoding", "base64"],
        ],
      },
      secretKey,
    );
    assert.equal((await parseKeyPackageEvent(mdk)).client, "MDK/0.7.1");
  });

  test("select_key_package_skips_a_newer_malformed_event", async () => {
    const { secretKey, templates } = await identity();
    const good = signEvent(templates.addressable, secretKey);
    const repeated = signEvent(withTags({ ...templates.legacy, created_at: templates.legacy.created_at + 5 }, (tags) => [...tags, ["encoding", "base64"]]), secretKey);
    assert.equal((await selectKeyPackage([repeated, good])).event.id, good.id);
  });

  test("relay_list_relays_come_from_the_newest_verifying_10051_in_normal_form", async () => {
    const secretKey = generateSecretKey();
    const older = signEvent(keyPackageRelayListTemplate(["wss://old.example"], 10), secretKey);
    const list = signEvent(
      { ...keyPackageRelayListTemplate(["ws://127.0.0.1:7447/", "WS://127.0.0.1:7447", "wss://relay.one:443"], 20), tags: [["relay", "ws://127.0.0.1:7447/"], ["relay", "WS://127.0.0.1:7447"], ["relay", "wss://relay.one:443"], ["relay", "https://no"], ["relay"]] },
      secretKey,
    );
    const forged = { ...signEvent(keyPackageRelayListTemplate(["wss://evil.example"], 30), secretKey), sig: list.sig };
    assert.deepEqual(keyPackageRelayListRelays([older, forged, list]), ["ws://127.0.0.1:7447", "wss://relay.one"]);
    assert.deepEqual(keyPackageRelayListRelays([]), []);
  });
});
