// "mean ± sd" over seeds (sample sd), or the single value when there is one run: the results tables.
export function formatMeanSd(xs: readonly number[], digits: number): string {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return m.toFixed(digits);
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  return `${m.toFixed(digits)} ± ${sd.toFixed(digits)}`;
}
