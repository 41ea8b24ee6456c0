import type { KeyPackageState } from "../../../shared/state";

/** Others can start a chat with us only once our key package is on our relays. */
export function KeyPackageNote({ keyPackage }: { keyPackage: KeyPackageState }) {
  if (keyPackage.published) return null;
  return (
    <p className="key-package-note">
      {keyPackage.publishing
        ? "Publishing your key package so others can start chats with you…"
        : "Your key package is not on your relays yet, so others cannot start chats with you."}
    </p>
  );
}
