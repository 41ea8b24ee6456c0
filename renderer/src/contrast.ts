// Colour contrast of the stylesheet's own values (WCAG 2 relative luminance), for tests that keep
// text readable: the custom properties of :root, and the colours the rules compute from them.

export type Rgb = readonly [number, number, number];

/** The custom properties of the light (`dark` false) or dark `:root` block of a stylesheet. */
export function customProperties(css: string, dark: boolean): Map<string, string> {
  const source = dark ? (/@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}/u.exec(css)?.[1] ?? "") : (/(?:^|\n):root\s*\{([^}]*)\}/u.exec(css)?.[1] ?? "");
  const properties = dark ? customProperties(css, false) : new Map<string, string>();
  for (const match of source.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/gu)) properties.set(match[1]!, match[2]!.trim());
  return properties;
}

/** The value of `property` in the first rule whose selector is exactly `selector`. */
export function declaration(css: string, selector: string, property: string): string {
  const uncommented = css.replace(/\/\*[\s\S]*?\*\//gu, "");
  for (const rule of uncommented.matchAll(/(?<=^|\})\s*([^{}@]+?)\s*\{([^}]*)\}/gu)) {
    if (rule[1]!.trim() !== selector) continue;
    const value = new RegExp(`(?:^|;)\\s*${property}\\s*:\\s*([^;]+)`, "u").exec(rule[2]!)?.[1];
    if (value !== undefined) return value.trim();
  }
  throw new Error(`no ${property} in a rule for ${selector}`);
}

function hex(value: string): Rgb {
  const digits = /^#([0-9a-f]{6})$/iu.exec(value)?.[1];
  if (digits === undefined) throw new Error(`not a #rrggbb colour: ${value}`);
  return [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16)) as unknown as Rgb;
}

/** A colour value: #rrggbb, var(--x), or color-mix(in srgb, A p%, B). */
export function resolveColor(value: string, properties: Map<string, string>): Rgb {
  const v = value.trim();
  const variable = /^var\((--[\w-]+)\)$/u.exec(v);
  if (variable) {
    const resolved = properties.get(variable[1]!);
    if (resolved === undefined) throw new Error(`undefined custom property ${variable[1]}`);
    return resolveColor(resolved, properties);
  }
  const mix = /^color-mix\(in srgb,\s*(.+?)\s+(\d+(?:\.\d+)?)%,\s*(.+)\)$/u.exec(v);
  if (mix) {
    const a = resolveColor(mix[1]!, properties);
    const b = resolveColor(mix[3]!, properties);
    const p = Number(mix[2]) / 100;
    return [0, 1, 2].map((i) => a[i]! * p + b[i]! * (1 - p)) as unknown as Rgb;
  }
  return hex(v);
}

function luminance([r, g, b]: Rgb): number {
  const channel = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** WCAG 2 contrast ratio, from 1 to 21. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}
