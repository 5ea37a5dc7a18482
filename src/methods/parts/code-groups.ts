// DLCMH's pairwise terms mean((u·bⱼ/c − S_ij)²) over a sample of codes bⱼ whose similarity column
// S_:j depends only on item j's label row. Items with the same (code, label row) give identical
// columns, and a class-incremental sample has many: on Wikipedia 4+3+3 (seed 1) the 1,468 stored codes
// of the second increment are 443 distinct (code, label) pairs, and the DCC codes of a session's 634
// new items fall to a few dozen distinct pairs after two sweeps. Each pair is therefore entered once with its count w as weight:
//   Σⱼ (u·bⱼ/c − S_ij)²  =  Σ_g w_g (u·b_g/c − S_ig)²  =  Σ_g (u·(√w_g b_g)/c − √w_g S_ig)²,
// so the weighted term is the unweighted op on scaled codes and scaled similarity columns, and the
// mean over m × (sample size) entries is the op's mean over m × groups times groups / sample size.
// Same loss and gradient up to float rounding; the per-step cost of the term falls with the groups.

/** Rows of a sample grouped by identical (code, label row). */
export interface CodeGroups {
  /** Position (in the sample) of each group's first row. */
  first: Int32Array;
  /** √(rows in the group), the factor of the group's code and similarity column. */
  sqrtCount: Float32Array;
  /** Rows in the sample (Σ counts). */
  total: number;
}

/**
 * Groups sample rows idx[0..] of `codes` (±1, c wide) with their label rows (`labels`, width w; the
 * same row idx[p]) by identical (code, label row), in order of first appearance.
 */
export function groupCodes(codes: Float32Array, c: number, idx: ArrayLike<number>, labels: Uint8Array, w: number): CodeGroups {
  const seen = new Map<string, number>();
  const first: number[] = [], count: number[] = [];
  const words = Math.ceil(c / 30);
  const parts: number[] = new Array(words + w);
  for (let p = 0; p < idx.length; p++) {
    const o = idx[p]! * c;
    for (let q = 0; q < words; q++) {
      let v = 0;
      const end = Math.min(c, (q + 1) * 30);
      for (let k = q * 30; k < end; k++) v = v * 2 + (codes[o + k]! > 0 ? 1 : 0);
      parts[q] = v;
    }
    const lo = idx[p]! * w;
    for (let k = 0; k < w; k++) parts[words + k] = labels[lo + k]!;
    const key = parts.join(',');
    const g = seen.get(key);
    if (g === undefined) { seen.set(key, first.length); first.push(p); count.push(1); } else count[g]!++;
  }
  return { first: Int32Array.from(first), sqrtCount: Float32Array.from(count, Math.sqrt), total: idx.length };
}

/** The groups' codes, each scaled by √count (groups × c): row g = √w_g · codes[idx[first_g]]. */
export function scaledGroupCodes(codes: Float32Array, c: number, idx: ArrayLike<number>, g: CodeGroups): Float32Array {
  const out = new Float32Array(g.first.length * c);
  for (let r = 0; r < g.first.length; r++) {
    const o = idx[g.first[r]!]! * c, s = g.sqrtCount[r]!;
    for (let k = 0; k < c; k++) out[r * c + k] = codes[o + k]! * s;
  }
  return out;
}

/** Scales column j of a row-major matrix with s.length columns by s[j], in place (a group's √count on its similarity column). */
export function scaleColumns(M: Float32Array, s: Float32Array): Float32Array {
  const k = s.length;
  for (let o = 0; o < M.length; o += k) for (let j = 0; j < k; j++) M[o + j] *= s[j]!;
  return M;
}
