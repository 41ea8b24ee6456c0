/**
 * Who is who in a group and who may change what (MIP-00, MIP-03): member identities read
 * from the ratchet tree, and the policy an incoming commit or proposal must pass before
 * group.ts applies it.
 */
import { defaultProposalTypes, nodeTypes, type ClientState, type IncomingMessageCallback, type ProposalWithSender, type RatchetTree } from "ts-mls";
import { credentialPubkey } from "./keyPackage.js";
import { leafCredential } from "./senderData.js";

/** (leaf index, hex pubkey) of every leaf, in leaf order. */
export function leafIdentities(tree: RatchetTree): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  tree.forEach((node, nodeIndex) => {
    if (node?.nodeType === nodeTypes.leaf) out.push([nodeIndex / 2, credentialPubkey(node.leaf.credential)]);
  });
  return out;
}

/** What the ts-mls callback saw, kept for the result and for error messages. */
export interface Review {
  kind: "commit" | "proposal" | undefined;
  sender: string | undefined;
  proposals: ProposalWithSender[];
  refusal: string | undefined;
  /** The commit lacks an UpdatePath it needs (reported by the patched ts-mls). */
  missingPath: boolean;
}

export function identityAt(tree: RatchetTree, leafIndex: number | undefined): string | undefined {
  if (leafIndex === undefined) return undefined;
  const credential = leafCredential(tree, leafIndex);
  if (credential === undefined) return undefined;
  try {
    return credentialPubkey(credential);
  } catch {
    return undefined;
  }
}

/** MIP-00 / MIP-03 rules for one proposal: an Update keeps the sender's identity. */
function proposalRefusal(tree: RatchetTree, item: ProposalWithSender): string | undefined {
  if (item.proposal.proposalType !== defaultProposalTypes.update || !("update" in item.proposal)) return undefined;
  const before = identityAt(tree, item.senderLeafIndex);
  let after: string | undefined;
  try {
    after = credentialPubkey(item.proposal.update.leafNode.credential);
  } catch {
    after = undefined;
  }
  return before !== undefined && before === after ? undefined : "an Update may not change a member's identity";
}

/**
 * Commits: admins may commit anything; other members only self-updates (no
 * proposals, or only Updates of their own leaf). No one may change an identity.
 * `admins` is read only for a commit (application messages, most of the traffic, never need it).
 */
export function reviewer(state: ClientState, admins: () => readonly string[], review: Review): IncomingMessageCallback {
  return (incoming) => {
    review.kind = incoming.kind;
    if (incoming.kind === "proposal") {
      review.sender = identityAt(state.ratchetTree, incoming.proposal.senderLeafIndex);
      review.proposals = [incoming.proposal];
      review.refusal = proposalRefusal(state.ratchetTree, incoming.proposal);
      return review.refusal === undefined ? "accept" : "reject";
    }
    review.sender = identityAt(state.ratchetTree, incoming.senderLeafIndex);
    review.proposals = incoming.proposals;
    review.missingPath = incoming.missingPath;
    if (review.sender === undefined) {
      review.refusal = "commit from a non-member";
      return "reject";
    }
    for (const item of incoming.proposals) {
      review.refusal = proposalRefusal(state.ratchetTree, item);
      if (review.refusal !== undefined) return "reject";
    }
    if (admins().includes(review.sender)) return "accept";
    const selfUpdateOnly = incoming.proposals.every(
      (item) => item.proposal.proposalType === defaultProposalTypes.update && item.senderLeafIndex === incoming.senderLeafIndex,
    );
    if (selfUpdateOnly) return "accept";
    review.refusal = `${review.sender.slice(0, 12)} is not an admin and may only commit self-updates`;
    return "reject";
  };
}

/** A commit's path may not change its committer's identity either: compare leaves kept across the commit. */
export function changedIdentity(before: RatchetTree, after: RatchetTree, removed: ReadonlySet<number>): boolean {
  const previous = new Map(leafIdentities(before));
  return leafIdentities(after).some(([leafIndex, pubkey]) => !removed.has(leafIndex) && previous.has(leafIndex) && previous.get(leafIndex) !== pubkey);
}
