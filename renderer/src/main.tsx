import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { openConnection } from "./bridge/connection";
import { BurrowContext } from "./burrowContext";
import { App } from "./components/App";
import { SnapshotStore } from "./store";
import "./styles.css";

const connection = openConnection();
const store = new SnapshotStore();
connection.onStatus(() => {
  if (connection.getStatus() === "connected") store.startOver();
});
connection.bridge.onState((snapshot) => store.push(snapshot));

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <BurrowContext value={{ connection, store }}>
      <App />
    </BurrowContext>
  </StrictMode>,
);
