import type { BurrowBridge } from "../shared/ipc";

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the page is served by the browser host. */
    burrow?: BurrowBridge;
  }
}
