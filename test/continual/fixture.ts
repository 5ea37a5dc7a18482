// A tiny class-incremental plan over synthetic data for the continual tests (hand-built so these
// tests do not depend on the stream builder; the CLI builds plans from data/stream.ts).
import { generateSynthetic } from '../../src/data/synthetic.js';
import type { ContinualPlan } from '../../src/continual/runner.js';

export function tinyPlan(opts: { n?: number; sessions?: number[]; seed?: number } = {}): ContinualPlan {
  const sizes = opts.sessions ?? [3, 2, 2];
  const C = sizes.reduce((a, b) => a + b, 0);
  const ds = generateSynthetic({ n: opts.n ?? 360, numLabels: C, imageDim: 24, textDim: 40, seed: opts.seed ?? 3, querySize: 60 });
  const sessionOfClass: number[] = [];
  sizes.forEach((s, t) => { for (let k = 0; k < s; k++) sessionOfClass.push(t); });
  const itemSession = (r: number) => { let s = -1; for (let c = 0; c < C; c++) if (ds.labels[r * C + c]) s = Math.max(s, sessionOfClass[c]!); return s; };
  const query = ds.split('query');
  const isQuery = new Uint8Array(ds.n); query.forEach((r) => { isQuery[r] = 1; });
  const rowsOf: number[][] = sizes.map(() => []);
  for (let r = 0; r < ds.n; r++) if (!isQuery[r]) rowsOf[itemSession(r)]!.push(r);
  let next = 0;
  return {
    data: 'synthetic-tiny', n: ds.n, image: ds.image, imageDim: ds.imageDim, text: ds.text, textDim: ds.textDim, labels: ds.labels, numLabels: C,
    classOrder: Array.from({ length: C }, (_, c) => c),
    sessions: sizes.map((s, t) => {
      const newClasses = Array.from({ length: s }, () => next++);
      return { newClasses, trainRows: Int32Array.from(rowsOf[t]!), databaseRows: Int32Array.from(rowsOf[t]!) };
    }),
    queryRows: query, querySession: Int32Array.from(query, (r) => itemSession(r)),
  };
}

/** The entries of `options` that `method` has (its registry schema), for tests that build several methods alike. */
export async function forMethod(method: string, options: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { methodEntry } = await import('../../src/methods/registry.js');
  const schema = methodEntry(method).options;
  return Object.fromEntries(Object.entries(options).filter(([k]) => k in schema));
}
