// The DCMH/SSAH fixture from docs/design.md "Metrics" (4-bit codes padded to 8 bits by repeating ±1 columns is NOT
// allowed — widths must be multiples of 8 — so the fixture pads with 4 columns that are +1 everywhere, which
// leaves every Hamming distance unchanged).
import { PackedCodes } from '../../src/codes/packed-codes.js';
import type { RetrievalInput } from '../../src/eval/metrics.js';

const pad = (rows: number[][]) => rows.map((r) => [...r, 1, 1, 1, 1]);

export function designFixture(): RetrievalInput {
  const q = [[1, -1, 1, 1], [-1, -1, -1, 1], [1, 1, -1, 1], [1, 1, 1, -1]];
  const db = [[1, -1, 1, -1], [-1, -1, 1, -1], [-1, -1, 1, -1], [1, 1, -1, -1], [-1, 1, -1, -1], [1, 1, -1, 1]];
  const ql = [[0, 1, 0, 0], [1, 1, 0, 0], [1, 0, 0, 1], [0, 1, 0, 1]];
  const dl = [[1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]];
  return {
    queries: PackedCodes.fromSigns(pad(q)),
    database: PackedCodes.fromSigns(pad(db)),
    queryLabels: Uint8Array.from(ql.flat()),
    databaseLabels: Uint8Array.from(dl.flat()),
    classes: 4,
  };
}
