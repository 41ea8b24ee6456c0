// Child process of the kill-mid-write test: writes until it is SIGKILLed.
// Usage: node killWriter.fixture.js <dataDir> <pubkey> <groupId>
// Each transaction inserts a message, marks its event processed and sets the group state to a
// STATE_BYTES blob whose first four bytes (uint32 big-endian) are the group's message count.
import { AccountStore } from "./accountStore.js";

const STATE_BYTES = 4096;

const [dataDir, pubkey, groupId] = process.argv.slice(2);
if (dataDir === undefined || pubkey === undefined || groupId === undefined) {
  throw new Error("usage: killWriter.fixture.js <dataDir> <pubkey> <groupId>");
}
writeUntilKilled(dataDir, pubkey, groupId);

function writeUntilKilled(dataDir: string, pubkey: string, groupId: string): never {
  const store = AccountStore.open(dataDir, pubkey);
  const group = store.getGroup(groupId);
  if (group === null) throw new Error(`no group ${groupId}`);
  let count = new DataView(group.state.buffer, group.state.byteOffset, group.state.byteLength).getUint32(0);

  const writeOne = (): void => {
    store.transaction(() => {
      const next = count + 1;
      const id = `${process.pid.toString(16)}-${next}`;
      store.insertMessage({
        id,
        group_id: groupId,
        sender: pubkey,
        kind: 9,
        content: `message ${next}`,
        tags: [],
        created_at: 1_700_000_000 + next,
        status: "received",
      });
      store.markProcessed(`event-${id}`, 445, 1_700_000_000 + next);
      const state = new Uint8Array(STATE_BYTES).fill(next & 0xff);
      new DataView(state.buffer).setUint32(0, next);
      store.updateGroupState(groupId, state, next);
      count = next;
    });
  };

  writeOne();
  process.stdout.write("ready\n");
  for (;;) writeOne();
}
