/**
 * Who sent a PrivateMessage, before (or without) processing it: the SenderData
 * opened with the same keys ts-mls uses (RFC 9420 §6.3.2). Only to recognise
 * our own messages, which ts-mls cannot open; for the others ts-mls (patched)
 * names the sender it verified the signature of.
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

/** The sender's leaf of `message`, or undefined when no retained epoch of `state` opens it. */
export async function privateMessageSender(state: ClientState, message: PrivateMessage, cs: CiphersuiteImpl): Promise<{ leafIndex: number } | undefined> {
  const senderDataSecret =
    message.epoch === state.groupContext.epoch ? state.keySchedule.senderDataSecret : state.historicalReceiverData.get(message.epoch)?.senderDataSecret;
  if (senderDataSecret === undefined) return undefined;

  const sample = message.ciphertext.subarray(0, cs.kdf.size);
  const key = await expandWithLabel(senderDataSecret, "key", sample, cs.hpke.keyLength, cs);
  const nonce = await expandWithLabel(senderDataSecret, "nonce", sample, cs.hpke.nonceLength, cs);
  const aad = new TlsWriter().vector(message.groupId).bytes(uint64(message.epoch)).bytes(Uint8Array.of(message.contentType)).finish();
  let plain: Uint8Array;
  try {
    plain = await cs.hpke.decryptAead(key, nonce, aad, message.encryptedSenderData);
  } catch {
    return undefined;
  }
  if (plain.length !== 12) return undefined;
  return { leafIndex: new DataView(plain.buffer, plain.byteOffset, plain.byteLength).getUint32(0) };
}

/** The credential of leaf `leafIndex` in `tree`; undefined for a blank or missing leaf. */
export function leafCredential(tree: RatchetTree, leafIndex: number): ReturnType<typeof getCredentialFromLeafIndex> | undefined {
  try {
    return getCredentialFromLeafIndex(tree, leafIndex as LeafIndex);
  } catch {
    return undefined;
  }
}
