// The renderer's only door to the core: two methods, never ipcRenderer itself. Runs sandboxed, so it
// is bundled into one CommonJS file (vite.preload.config.ts) whose only require is "electron".
import { contextBridge, ipcRenderer, type IpcRendererEvent } from "electron";
import { IPC_CHANNELS, type BurrowBridge } from "../shared/ipc.js";
import type { AppAction, DispatchReply } from "../shared/actions.js";
import type { StatePush, StateSnapshot } from "../shared/state.js";
import { foldPushes } from "../shared/statePush.js";

const bridge: BurrowBridge = {
  dispatch(action: AppAction): Promise<DispatchReply> {
    return ipcRenderer.invoke(IPC_CHANNELS.dispatch, action) as Promise<DispatchReply>;
  },

  onState(listener: (snapshot: StateSnapshot) => void): () => void {
    let subscribed = true;
    const whole = (): void => {
      void (ipcRenderer.invoke(IPC_CHANNELS.snapshot) as Promise<StatePush>).then(
        (push) => {
          if (subscribed) fold(push);
        },
        (error: unknown) => console.error("burrow: could not read the current state", error),
      );
    };
    // A patch that does not fit what is held (sent before the whole state was read) asks for it again.
    const fold = foldPushes(listener, whole);
    const handler = (_event: IpcRendererEvent, push: StatePush): void => fold(push);
    // Listen first, then ask for the current state: patches before it are dropped, those after it fit.
    ipcRenderer.on(IPC_CHANNELS.state, handler);
    whole();
    return () => {
      subscribed = false;
      ipcRenderer.removeListener(IPC_CHANNELS.state, handler);
    };
  },
};

contextBridge.exposeInMainWorld("burrow", bridge);
