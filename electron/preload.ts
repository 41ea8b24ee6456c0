// The renderer's only door to the core: two methods, never ipcRenderer itself. Runs sandboxed, so it
// is bundled into one CommonJS file (vite.preload.config.ts) whose only require is "electron".
import { contextBridge, ipcRenderer, type IpcRendererEvent } from "electron";
import { IPC_CHANNELS, type BurrowBridge } from "../shared/ipc.js";
import type { AppAction, DispatchReply } from "../shared/actions.js";
import type { StateSnapshot } from "../shared/state.js";

const bridge: BurrowBridge = {
  dispatch(action: AppAction): Promise<DispatchReply> {
    return ipcRenderer.invoke(IPC_CHANNELS.dispatch, action) as Promise<DispatchReply>;
  },

  onState(listener: (snapshot: StateSnapshot) => void): () => void {
    const handler = (_event: IpcRendererEvent, snapshot: StateSnapshot): void => listener(snapshot);
    let subscribed = true;
    // Listen first, then ask for the current snapshot: a push that overtakes it has a higher rev,
    // and the renderer drops the older one.
    ipcRenderer.on(IPC_CHANNELS.state, handler);
    void (ipcRenderer.invoke(IPC_CHANNELS.snapshot) as Promise<StateSnapshot>).then(
      (snapshot) => {
        if (subscribed) listener(snapshot);
      },
      (error: unknown) => console.error("burrow: could not read the current state", error),
    );
    return () => {
      subscribed = false;
      ipcRenderer.removeListener(IPC_CHANNELS.state, handler);
    };
  },
};

contextBridge.exposeInMainWorld("burrow", bridge);
