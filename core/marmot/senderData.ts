/**
 * Who sent a PrivateMessage. ts-mls returns an application message's plaintext
 * without its sender, and Marmot must check that the rumor's pubkey is the
 * sender's credential identity (MIP-03), so the SenderData is opened here with
 * the same keys ts-mls uses (RFC 9420 §6.3.2). ts-mls then verifies the framed
 * content's signature against that same leaf, which authenticates the answer.
 */
import { getCredentialFromLeafIndex, type CiphersuiteImpl, type ClientState, type LeafIndex, type PrivateMessage, type RatchetTree } from "ts-mls";
import { TlsWriter } from "./tls.js";

async function expandWithLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number, cs: CiphersuiteImpl): Promise<Uint8Array> {
  const info = new TlsWriter()
    .uint16(length)
    .vector(new TextEncoder().encode(`MLS 1.0 ${label}`))
    .vector(context)
    .finish();
  return cs.kdf.expand(secret, info, length);
}

function uint64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

export interface MessageSender {
  leafIndex: number;
  /** The sender's message number in its ratchet for this epoch: orders its messages within a second. */
  generation: number;
  /** The ratchet tree of the message's epoch, to read the sender's credential from. */
  tree: RatchetTree;
}

/** The sender's leaf of `message`, or undefined when no retained epoch of `state` opens it. */
export async function privateMessageSender(state: ClientState, message: PrivateMessage, cs: CiphersuiteImpl): Promise<MessageSender | undefined> {
  const epochData =
    message.epoch === state.groupContext.epoch
      ? { senderDataSecret: state.keySchedule.senderDataSecret, tree: state.ratchetTree }
      : (() => {
          const past = state.historicalReceiverData.get(message.epoch);
          return past === undefined ? undefined : { senderDataSecret: past.senderDataSecret, tree: past.ratchetTree };
        })();
  if (epochData === undefined) return undefined;

  const sample = message.ciphertext.subarray(0, cs.kdf.size);
  const key = await expandWithLabel(epochData.senderDataSecret, "key", sample, cs.hpke.keyLength, cs);
  const nonce = await expandWithLabel(epochData.senderDataSecret, "nonce", sample, cs.hpke.nonceLength, cs);
  const aad = new TlsWriter().vector(message.groupId).bytes(uint64(message.epoch)).bytes(Uint8Array.of(message.contentType)).finish();
  let plain: Uint8Array;
  try {
    plain = await cs.hpke.decryptAead(key, nonce, aad, message.encryptedSenderData);
  } catch {
    return undefined;
  }
  if (plain.length !== 12) return undefined;
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  return { leafIndex: view.getUint32(0), generation: view.getUint32(4), tree: epochData.tree };
}

/** The credential of leaf `leafIndex` in `tree`; undefined for a blank or missing leaf. */
export function leafCredential(tree: RatchetTree, leafIndex: number): ReturnType<typeof getCredentialFromLeafIndex> | undefined {
  try {
    return getCredentialFromLeafIndex(tree, leafIndex as LeafIndex);
  } catch {
    return undefined;
  }
}
