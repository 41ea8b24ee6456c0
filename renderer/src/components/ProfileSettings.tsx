import { useId, useState, type FormEvent } from "react";
import { isPictureUrl, MAX_PROFILE_ABOUT_LENGTH, MAX_PROFILE_NAME_LENGTH } from "../../../shared/actions";
import type { OwnProfile, ProfileView } from "../../../shared/state";
import { useDispatch } from "../hooks/useDispatch";
import { Avatar } from "./Avatar";
import { Field } from "./Field";

interface ProfileSettingsProps {
  me: ProfileView;
  profile: OwnProfile | null;
  loadPictures: boolean;
}

/** Our name, about and picture (published as our kind 0), and whether others' pictures are loaded. */
export function ProfileSettings({ me, profile, loadPictures }: ProfileSettingsProps) {
  const dispatch = useDispatch();
  const headingId = useId();
  const [name, setName] = useState(profile?.name ?? "");
  const [about, setAbout] = useState(profile?.about ?? "");
  const [picture, setPicture] = useState(profile?.picture ?? "");
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [touched, setTouched] = useState(false);

  const pictureUrl = picture.trim();
  const nameError = name.trim().length > MAX_PROFILE_NAME_LENGTH ? `At most ${MAX_PROFILE_NAME_LENGTH} characters` : null;
  const aboutError = about.trim().length > MAX_PROFILE_ABOUT_LENGTH ? `At most ${MAX_PROFILE_ABOUT_LENGTH} characters` : null;
  const pictureError = touched && pictureUrl !== "" && !isPictureUrl(pictureUrl) ? "Enter a URL starting with https:// or http://" : null;

  const edited = (set: (value: string) => void) => (value: string) => {
    set(value);
    setSaved(false);
  };

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (nameError || aboutError || (pictureUrl !== "" && !isPictureUrl(pictureUrl)) || saving) return;
    setSaving(true);
    const reply = await dispatch({ type: "SetProfile", name, about, picture: pictureUrl === "" ? null : pictureUrl });
    setSaving(false);
    setSaved(reply.ok);
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>Profile</h2>
      <div className="profile-preview">
        <Avatar profile={{ ...me, name: profile?.name || null }} size={48} />
        <span className="truncate">{profile?.name || "No name set"}</span>
      </div>
      <form className="inline-form" onSubmit={(event) => void submit(event)} noValidate>
        <Field label="Name" value={name} onChange={edited(setName)} error={nameError} />
        <Field label="About" value={about} onChange={edited(setAbout)} error={aboutError} rows={3} />
        <Field label="Picture URL" kind="url" value={picture} onChange={edited(setPicture)} error={pictureError} placeholder="https://" />
        <div className="row">
          <button type="submit" className="primary" disabled={saving}>
            {saving ? "Saving…" : "Save profile"}
          </button>
          {saved && <span role="status">Profile saved</span>}
        </div>
      </form>
      <label className="checkbox-row">
        <input type="checkbox" checked={loadPictures} onChange={(event) => void dispatch({ type: "SetLoadPictures", enabled: event.target.checked })} />
        Load profile pictures
      </label>
      <p className="hint">Off: everyone gets a picture made from their key. On: Burrow downloads the pictures people chose, which tells those servers your IP address.</p>
    </section>
  );
}
