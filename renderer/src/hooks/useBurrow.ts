import { useContext } from "react";
import { BurrowContext, type Burrow } from "../burrowContext";

export function useBurrow(): Burrow {
  const burrow = useContext(BurrowContext);
  if (!burrow) throw new Error("useBurrow needs a BurrowContext provider");
  return burrow;
}
