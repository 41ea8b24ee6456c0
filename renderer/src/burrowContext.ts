import { createContext } from "react";
import type { Connection } from "./bridge/connection";
import type { SnapshotStore } from "./store";

export interface Burrow {
  connection: Connection;
  store: SnapshotStore;
}

export const BurrowContext = createContext<Burrow | null>(null);
