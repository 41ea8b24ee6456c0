// A person's generated avatar: a mirrored 5×5 grid and a colour, both from their public key's bytes,
// so everyone sees the same picture for the same key without loading anything remote.

export interface GeneratedAvatar {
  /** 25 cells, row by row; true cells are drawn. Columns 0–1 mirror 4–3. */
  cells: boolean[];
  /** The drawn cells as one SVG path in the 5×5 viewBox: one element to create per avatar, not one per cell. */
  cellsPath: string;
  /** HSL colours of the drawn cells and the background. */
  foreground: string;
  background: string;
  /** Up to two letters of the name (or of the npub after "npub1"). */
  initials: string;
}

function bytesOf(pubkeyHex: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i + 1 < pubkeyHex.length && bytes.length < 32; i += 2) {
    const byte = parseInt(pubkeyHex.slice(i, i + 2), 16);
    bytes.push(Number.isNaN(byte) ? 0 : byte);
  }
  while (bytes.length < 32) bytes.push(0);
  return bytes;
}

export function initialsOf(name: string | null, npub: string): string {
  const words = (name ?? "").trim().split(/\s+/).filter(Boolean);
  const letters = words.length >= 2 ? [words[0], words[1]].map((w) => [...(w ?? "")][0] ?? "") : [...(words[0] ?? "")].slice(0, 2);
  const text = letters.join("").toUpperCase();
  return text || npub.replace(/^npub1/, "").slice(0, 2).toUpperCase();
}

export function generatedAvatar(pubkeyHex: string, name: string | null, npub: string): GeneratedAvatar {
  const bytes = bytesOf(pubkeyHex.toLowerCase());
  const hue = ((bytes[0] ?? 0) * 256 + (bytes[1] ?? 0)) % 360;
  const cells: boolean[] = [];
  for (let row = 0; row < 5; row += 1) {
    for (let col = 0; col < 5; col += 1) {
      const source = col < 3 ? col : 4 - col;
      cells.push(((bytes[2 + row * 3 + source] ?? 0) & 1) === 1);
    }
  }
  const cellsPath = cells.map((on, i) => (on ? `M${i % 5} ${Math.floor(i / 5)}h1v1h-1z` : "")).join("");
  return { cells, cellsPath, foreground: `hsl(${hue} 55% 42%)`, background: `hsl(${hue} 45% 90%)`, initials: initialsOf(name, npub) };
}
