// The composer's emoji: a short list by group, and inserting one where the caret is.

/** Emoji per row of the picker; every group fills whole rows, so arrow keys move as the grid looks. */
export const EMOJI_COLUMNS = 8;

export interface EmojiGroup {
  name: string;
  emoji: readonly string[];
}

export const EMOJI_GROUPS: readonly EmojiGroup[] = [
  { name: "Smileys", emoji: ["😀", "😄", "😁", "😅", "😂", "🙂", "😉", "😊", "😍", "🤔", "😎", "😴", "😮", "😢", "😡", "🥳"] },
  { name: "Gestures", emoji: ["👍", "👎", "👏", "🙌", "🙏", "👋", "🤝", "💪", "👀", "✌️", "🤞", "👌", "🤙", "✋", "☝️", "👆"] },
  { name: "Hearts", emoji: ["❤️", "🧡", "💛", "💚", "💙", "💜", "🖤", "💔"] },
  { name: "Things", emoji: ["🎉", "🔥", "✨", "⭐", "✅", "❌", "⚡", "💡", "🔒", "🔑", "📎", "☕", "📌", "🎵", "🚀", "🍕"] },
  { name: "Nature", emoji: ["🦫", "🐿️", "🦊", "🐻", "🌱", "🌻", "🌙", "☀️"] },
];

/** `text` with `emoji` put in place of the selection [start, end); returns the new text and caret position. */
export function insertAt(text: string, start: number, end: number, emoji: string): { text: string; caret: number } {
  const from = Math.max(0, Math.min(start, text.length));
  const to = Math.max(from, Math.min(end, text.length));
  return { text: text.slice(0, from) + emoji + text.slice(to), caret: from + emoji.length };
}

/** The index of the next button in a grid of `count` with `columns` per row, for an arrow key (roving focus). */
export function gridMove(index: number, key: string, count: number, columns: number): number {
  switch (key) {
    case "ArrowRight":
      return Math.min(count - 1, index + 1);
    case "ArrowLeft":
      return Math.max(0, index - 1);
    case "ArrowDown":
      return Math.min(count - 1, index + columns);
    case "ArrowUp":
      return index - columns >= 0 ? index - columns : index;
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return index;
  }
}
