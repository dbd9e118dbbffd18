// What every bench module reports: one row per measurement.
export interface Row {
  name: string;
  value: number;
  unit: string;
  /** The value this one is compared with (same unit), when there is one. */
  baseline?: number;
  /** value / baseline. */
  ratio?: number;
  /** The goal, as text: `< 30 s`, `<= 1.05x`. */
  target?: string;
  /** Whether the target is met; undefined for rows that are information only. */
  pass?: boolean;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
