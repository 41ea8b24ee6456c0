// Profiles (kind 0): ours, set here and published to our relays, and those of the people in our
// chats and invitations (their names and pictures); with "Load profile pictures" on, their pictures.
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import { isPictureUrl, type DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import type { OwnProfile } from "../../../shared/state.js";
import { resumeFrom, type Batch } from "../../chats/receiveBatch.js";
import type { ChatRegistry } from "../../chats/registry.js";
import { hasValidSignature, signEvent } from "../../marmot/index.js";
import type { AccountContext } from "../../state/context.js";
import { fetchPicture } from "./pictureFetch.js";

export const PROFILE_KIND = 0;
const PROFILE_CURSOR = "cursor:0";
const OWN_PROFILE_KEY = "own_profile";
const LOAD_PICTURES_KEY = "load_pictures";
/** Authors per filter: relays cap how many a filter may name. */
const AUTHORS_PER_FILTER = 100;
/** A picture that could not be fetched is tried again after this long. */
const PICTURE_RETRY_SEC = 24 * 60 * 60;
const PICTURES_AT_ONCE = 4;

type StoredOwnProfile = OwnProfile & { created_at: number };

const chunks = (people: string[]): string[][] => {
  const out: string[][] = [];
  for (let i = 0; i < people.length; i += AUTHORS_PER_FILTER) out.push(people.slice(i, i + AUTHORS_PER_FILTER));
  return out;
};

export class Profiles {
  /** Picture URLs of profiles just received (their rows are stored with the batch). */
  private readonly wanted = new Set<string>();
  /** A picture run is on its way; `fetchAgain`: more came up meanwhile. */
  private fetching = false;
  private fetchAgain = false;

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
    private readonly changed: () => void,
  ) {}

  start(): void {
    const own = this.ctx.store.getMeta<StoredOwnProfile>(OWN_PROFILE_KEY);
    const load = this.ctx.store.getMeta<boolean>(LOAD_PICTURES_KEY) === true;
    this.ctx.update((s) => {
      s.profile = own ? { name: own.name, about: own.about, picture: own.picture } : null;
      s.settings.load_pictures = load;
    });
    if (load) this.fetchPictures();
  }

  private people(): string[] {
    const people = new Set<string>();
    for (const { row } of this.registry.all()) for (const member of row.members) people.add(member);
    for (const invite of this.ctx.store.listPendingInvites()) people.add(invite.from_pubkey);
    people.delete(this.ctx.keys.pubkey);
    return [...people];
  }

  /**
   * Someone whose profile we have not stored yet (seen for the first time, or without one so far) is
   * asked for from the beginning; the others from the cursor, for newer profiles. We are asked for
   * too, so a profile set on another device arrives here.
   */
  filters(): Filter[] {
    const people = this.people();
    const stored = this.ctx.store.getProfiles(people);
    const cursor = this.ctx.store.getMeta<number>(PROFILE_CURSOR);
    const since = cursor !== null ? resumeFrom(this.ctx, cursor) : undefined;
    const known = people.filter((p) => stored.has(p));
    const unknown = people.filter((p) => !stored.has(p));
    (this.ctx.store.getMeta<StoredOwnProfile>(OWN_PROFILE_KEY) ? known : unknown).push(this.ctx.keys.pubkey);
    return [
      ...chunks(unknown).map((authors): Filter => ({ kinds: [PROFILE_KIND], authors })),
      ...chunks(known).map((authors): Filter => ({ kinds: [PROFILE_KIND], authors, ...(since !== undefined ? { since } : {}) })),
    ];
  }

  async apply(event: Event, batch: Batch): Promise<void> {
    if (!hasValidSignature(event)) throw new Error("bad profile signature");
    let profile: unknown;
    try {
      profile = JSON.parse(event.content);
    } catch {
      throw new Error("profile content is not JSON");
    }
    if (typeof profile !== "object" || profile === null || Array.isArray(profile)) throw new Error("profile content is not a JSON object");
    const fields = profile as Record<string, unknown>;
    const text = (value: unknown, max: number): string | null => (typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, max) : null);
    const name = text(fields["display_name"], 100) ?? text(fields["name"], 100);
    const pictureText = text(fields["picture"], 1000);
    const picture = pictureText && isPictureUrl(pictureText) ? pictureText : null;
    const createdAt = Math.min(event.created_at, this.ctx.now() + this.ctx.timings.futureSkewSec);
    if (event.pubkey === this.ctx.keys.pubkey) {
      const own = { name: name ?? "", about: text(fields["about"], 500) ?? "", picture, created_at: createdAt };
      batch.write(() => this.ownFromRelay(own));
    } else {
      batch.write(() => this.ctx.store.upsertProfile({ pubkey: event.pubkey, name, picture, created_at: createdAt }));
      if (picture && this.ctx.state().settings.load_pictures) {
        this.wanted.add(picture);
        this.ctx.later(0, () => this.fetchPictures());
      }
    }
    batch.processed(event);
    batch.cursor(PROFILE_CURSOR, event.created_at);
  }

  /** Our profile as set on another device (or an earlier install): kept when newer than ours. */
  private ownFromRelay(profile: StoredOwnProfile): void {
    const own = this.ctx.store.getMeta<StoredOwnProfile>(OWN_PROFILE_KEY);
    if (own && own.created_at >= profile.created_at) return;
    this.ctx.store.setMeta(OWN_PROFILE_KEY, profile);
    this.ctx.update((s) => {
      s.profile = { name: profile.name, about: profile.about, picture: profile.picture };
    });
  }

  /** Kept here at once (and across restarts), then published as kind 0 to our relays. */
  set(profile: OwnProfile): DispatchReply {
    const previous = this.ctx.store.getMeta<StoredOwnProfile>(OWN_PROFILE_KEY);
    const createdAt = Math.max(this.ctx.now(), (previous?.created_at ?? 0) + 1);
    this.ctx.store.setMeta<StoredOwnProfile>(OWN_PROFILE_KEY, { ...profile, created_at: createdAt });
    this.ctx.update((s) => {
      s.profile = { ...profile };
    });
    const content: Record<string, string> = { name: profile.name, display_name: profile.name, about: profile.about };
    if (profile.picture) content["picture"] = profile.picture;
    const event = signEvent({ kind: PROFILE_KIND, created_at: createdAt, tags: [], content: JSON.stringify(content) }, this.ctx.keys.secret);
    this.ctx.run("profile_publish", () => this.ctx.pool.publish(event), {
      apply: (outcome) => {
        if (outcome.accepted.length > 0) return;
        this.ctx.toast("error", toUserMessage("profile_not_published", outcome.failed.map((f) => f.reason).join("; ") || undefined));
      },
      fail: (error) => this.ctx.toast("error", toUserMessage("profile_not_published", error instanceof Error ? error.message : String(error))),
    });
    return { ok: true };
  }

  setLoadPictures(enabled: boolean): DispatchReply {
    this.ctx.store.setMeta(LOAD_PICTURES_KEY, enabled);
    this.ctx.update((s) => {
      s.settings.load_pictures = enabled;
    });
    if (enabled) this.fetchPictures();
    this.changed();
    return { ok: true };
  }

  /**
   * Fetches the pictures not stored yet (or whose fetch failed a while ago) in one run; a run is
   * never replaced by a newer one (that would fetch its pictures again): what comes up meanwhile
   * waits for the next run.
   */
  private fetchPictures(): void {
    if (!this.ctx.live() || !this.ctx.state().settings.load_pictures) return;
    if (this.fetching) {
      this.fetchAgain = true;
      return;
    }
    const urls = new Set(this.wanted);
    this.wanted.clear();
    for (const row of this.ctx.store.getProfiles(this.people()).values()) if (row.picture) urls.add(row.picture);
    const due = [...urls].filter((url) => {
      const stored = this.ctx.store.getPicture(url);
      return !stored || (stored.data === null && stored.at + PICTURE_RETRY_SEC <= this.ctx.now());
    });
    if (due.length === 0) return;
    this.fetching = true;
    const options = { timeoutMs: this.ctx.timings.pictureFetchMs, allowLoopback: this.ctx.timings.pictureAllowLoopback };
    const finished = (): void => {
      this.fetching = false;
      if (this.fetchAgain) {
        this.fetchAgain = false;
        this.fetchPictures();
      }
    };
    this.ctx.run(
      "picture_fetch",
      async () => {
        const fetched: [string, string | null][] = [];
        for (let i = 0; i < due.length; i += PICTURES_AT_ONCE) {
          const some = due.slice(i, i + PICTURES_AT_ONCE);
          const results = await Promise.allSettled(some.map((url) => fetchPicture(url, options)));
          results.forEach((result, j) => {
            if (result.status === "rejected") this.ctx.log({ event: "picture_refused", error: result.reason instanceof Error ? result.reason.message : String(result.reason) });
            fetched.push([some[j] ?? "", result.status === "fulfilled" ? result.value : null]);
          });
        }
        return fetched;
      },
      {
        apply: (fetched) => {
          const at = this.ctx.now();
          for (const [url, data] of fetched) this.ctx.store.savePicture(url, data, at);
          if (fetched.some(([, data]) => data !== null)) this.changed();
          finished();
        },
        fail: finished,
      },
    );
  }
}
