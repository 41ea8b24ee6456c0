import { useEffect, useRef, type RefObject } from "react";

/** Opens the dialog as modal while the component is mounted: the page behind it is inert and Escape cancels it. */
export function useModalDialog(): RefObject<HTMLDialogElement | null> {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);
  return dialog;
}
