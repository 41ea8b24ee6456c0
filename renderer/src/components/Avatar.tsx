import type { ProfileView } from "../../../shared/state";
import { generatedAvatar } from "../avatar";
import { profileName } from "../format";
import { usePicture } from "../hooks/usePicture";

/** `decorative`: beside a control already named for the person (hidden from assistive tech). A person's picture: the one the core fetched (with "Load profile pictures" on), else one generated from their key. */
export function Avatar({ profile, size = 32, decorative = false }: { profile: ProfileView; size?: number; decorative?: boolean }) {
  const label = `Avatar of ${profileName(profile)}`;
  const picture = usePicture(profile.picture);
  if (picture) return <img className="avatar" src={picture} alt={decorative ? "" : label} width={size} height={size} />;
  const avatar = generatedAvatar(profile.pubkey, profile.name, profile.npub);
  return (
    <svg className="avatar" {...(decorative ? { "aria-hidden": true } : { role: "img", "aria-label": label })} width={size} height={size} viewBox="0 0 5 5">
      <rect width="5" height="5" fill={avatar.background} />
      {avatar.cellsPath && <path d={avatar.cellsPath} fill={avatar.foreground} opacity="0.55" />}
      <text x="2.5" y="2.5" dominantBaseline="central" textAnchor="middle" fontSize="2.1" fontWeight="600" fill="#1a1a1a">
        {avatar.initials}
      </text>
    </svg>
  );
}
