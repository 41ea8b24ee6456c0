// Seeds an account's data dir directly (store rows, no relay) with N chats and M messages, so a real
// AppCore opened on it (its key comes from the dir's secret-key file) loads and shows them.
// Two real MLS group states are made with core/marmot, one with two members for the direct chats and
// one with five for the groups, and every chat stores one of them: each chat loads and shows, and its
// state costs the memory of a real one, but sending in a seeded chat would go to that one MLS group.
// The rows (names, peers, members, messages, unread counts) are each chat's own.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { FileSecretStore } from "../core/base/secretStore.js";
import { generateKeys, type LocalKeys } from "../core/base/keys.js";
import { RETAINED_EPOCHS } from "../core/chats/registry.js";
import { EpochKeyCache, createGroup, epochKeyFor, generateKeyPackage, serializeGroupState, type CreatedGroup } from "../core/marmot/index.js";
import { AccountStore, type GroupKind } from "../core/storage/accountStore.js";

export interface SeedOptions {
  chats: number;
  messages: number;
  /** Every how-many-th chat is a group (the rest are direct chats); default 5. */
  groupEvery?: number;
  /** Every how-many-th chat has unread messages; default 10. */
  unreadEvery?: number;
  /** Unix seconds of the newest message; default now. */
  now?: number;
}

export interface SeededAccount {
  dataDir: string;
  keys: LocalKeys;
  /** Newest activity first, as the chat list shows them. */
  chatIds: string[];
  /** Chats with unread messages. */
  unreadChats: number;
}

const GROUP_MEMBERS = 5;
const FIRST_NAMES = "Ada Ben Chloe Dev Elif Farid Grace Hiro Ines Jonas Kemal Lena Mateo Nadia Omar Priya Quinn Rosa Sami Tara Umar Vera Wen Yusuf Zoe".split(" ");
const LAST_NAMES = "Novak Haddad Okafor Lindqvist Moreau Tanaka Silva Kowalski Byrne Rossi Achebe Park Nguyen Weber Costa".split(" ");
const GROUP_NAMES = "Climbing Book club Family Flat 4B Release crew Sunday football Choir Design review Road trip Garden plot Chess Night shift Alumni Band practice Kitchen".split(" ");
const WORDS = (
  "the a of to and in is it you that was for on are with as at be this have from or one had by but not what all were when we there can " +
  "tomorrow tonight meeting train coffee lunch photos ticket weekend later thanks sure maybe sounds good see you soon running late on my way"
).split(" ");

/** A deterministic pseudo-random sequence, so every run seeds the same data. */
function sequence(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % n;
  };
}

/** 64 hex characters, distinct for each (what, n), spread as real keys and ids are. */
const hex = (what: string, n: number): string => createHash("sha256").update(`${what}:${n}`).digest("hex");

function sentence(next: (n: number) => number): string {
  const words = Array.from({ length: 3 + next(18) }, () => WORDS[next(WORDS.length)]!);
  const text = words.join(" ");
  return `${text[0]!.toUpperCase()}${text.slice(1)}${next(4) === 0 ? "?" : "."}`;
}

/** How many messages each chat gets: every chat at least one, the rest skewed towards the newest chats. */
function spread(chats: number, messages: number, next: (n: number) => number): number[] {
  const counts = new Array<number>(chats).fill(0);
  for (let i = 0; i < Math.min(chats, messages); i++) counts[i] = 1;
  for (let left = messages - Math.min(chats, messages); left > 0; left--) {
    // The square of a uniform pick favours low indices (newest chats) without starving the old ones.
    const u = next(1_000_000) / 1_000_000;
    counts[Math.floor(u * u * chats)]! += 1;
  }
  return counts;
}

async function storedState(created: CreatedGroup): Promise<{ state: Uint8Array; key: Uint8Array; epoch: number }> {
  const key = await epochKeyFor(created.state, new EpochKeyCache(RETAINED_EPOCHS));
  const one = new EpochKeyCache(1);
  one.put(key);
  return { state: serializeGroupState(created.state), key: one.serialize(), epoch: Number(created.state.groupContext.epoch) };
}

export async function seedAccount(dataDir: string, options: SeedOptions): Promise<SeededAccount> {
  const { chats, messages } = options;
  const groupEvery = options.groupEvery ?? 5;
  const unreadEvery = options.unreadEvery ?? 10;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const keys = generateKeys();
  const me = keys.pubkey;
  const next = sequence(42);

  const peerKey = (i: number): string => hex("peer", i);
  const direct = await storedState(
    await createGroup({ creatorPubkey: me, members: [(await generateKeyPackage(generateKeys().pubkey)).publicPackage], name: "", relays: [] }),
  );
  const groupMembers = await Promise.all(Array.from({ length: GROUP_MEMBERS - 1 }, async () => (await generateKeyPackage(generateKeys().pubkey)).publicPackage));
  const group = await storedState(await createGroup({ creatorPubkey: me, members: groupMembers, name: "Seeded group", relays: [] }));

  const counts = spread(chats, messages, next);
  const chatIds: string[] = [];
  let unreadChats = 0;
  let messageNo = 0;
  const store = AccountStore.open(dataDir, me);
  try {
    store.transaction(() => {
      for (let c = 0; c < chats; c++) {
        const id = hex("chat", c);
        const kind: GroupKind = c % groupEvery === groupEvery - 1 ? "group" : "direct";
        const peers = kind === "direct" ? [peerKey(c)] : Array.from({ length: GROUP_MEMBERS - 1 + next(20) }, (_, k) => peerKey((c * 31 + k * 7919) % (chats * 2)));
        const members = [...new Set([me, ...peers])];
        const stored = kind === "direct" ? direct : group;
        // Chat c's newest message is c minutes before `now`: chat 0 is the newest.
        const last = now - c * 60;
        const count = counts[c]!;
        const first = last - count * 97;
        store.upsertGroup({
          id,
          mls_group_id: hex("mls", c),
          kind,
          name: kind === "group" ? `${GROUP_NAMES[c % GROUP_NAMES.length]} ${Math.floor(c / GROUP_NAMES.length) + 1}` : "",
          description: "",
          admins: [me],
          relays: [],
          members,
          peer: kind === "direct" ? peers[0]! : null,
          state: stored.state,
          epoch: stored.epoch,
          created_at: first - 60,
          updated_at: last,
        });
        store.putEpochKey(id, stored.epoch, stored.key);
        for (const peer of peers) {
          store.upsertProfile({ pubkey: peer, name: `${FIRST_NAMES[next(FIRST_NAMES.length)]} ${LAST_NAMES[next(LAST_NAMES.length)]}`, picture: null, created_at: 1 });
        }
        const unread = c % unreadEvery === 0 ? Math.min(count, 1 + next(5)) : 0;
        for (let m = 0; m < count; m++) {
          // A chat's unread messages come last, from someone else; the ones before them are read.
          if (m === count - unread) store.markRead(id);
          const mine = m < count - unread && next(2) === 0;
          store.insertMessage({
            id: hex("message", messageNo++),
            group_id: id,
            sender: mine ? me : peers[next(peers.length)]!,
            kind: 9,
            content: sentence(next),
            tags: [],
            created_at: m === count - 1 ? last : first + m * 97,
            status: mine ? "sent" : "received",
          });
        }
        if (unread === 0) store.markRead(id);
        else unreadChats++;
        chatIds.push(id);
      }
    });
  } finally {
    store.close();
  }
  await new FileSecretStore(dataDir).save(keys.secretHex);
  return { dataDir, keys, chatIds, unreadChats };
}

// `node dist/bench/seed.js DIR [CHATS] [MESSAGES]`: seeds DIR, for a look with `npm start -- --data-dir DIR`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, chats = "5000", messages = "100000"] = process.argv.slice(2);
  if (!dir) throw new Error("usage: node dist/bench/seed.js DIR [CHATS] [MESSAGES]");
  const started = performance.now();
  const seeded = await seedAccount(dir, { chats: Number(chats), messages: Number(messages) });
  console.log(`${dir}: ${seeded.keys.npub}, ${seeded.chatIds.length} chats (${seeded.unreadChats} unread), ${messages} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
