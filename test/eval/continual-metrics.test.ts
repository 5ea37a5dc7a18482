import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continualSummary } from '../../src/eval/continual-metrics.js';
import { InputError } from '../../src/util/errors.js';

test('continual summary: hand-checked 3-session matrix', () => {
  const R = [[0.8], [0.7, 0.6], [0.5, 0.65, 0.9]];
  const s = continualSummary(R);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(s.finalAverage, (0.5 + 0.65 + 0.9) / 3);                      // 0.68333
  close(s.averageIncremental, (0.8 + 0.65 + 2.05 / 3) / 3);            // (0.8 + 0.65 + 0.68333)/3
  close(s.bwt, ((0.5 - 0.8) + (0.65 - 0.6)) / 2);                     // −0.125
  close(s.forgetting, ((0.8 - 0.5) + (0.6 - 0.65)) / 2);              // max_{t<T} R[t][0] = 0.8, R[t][1] = 0.6 → 0.125
  assert.equal(continualSummary([[0.4]]).bwt, 0);
  assert.throws(() => continualSummary([[0.5], [0.4]]), InputError);
  assert.throws(() => continualSummary([]), InputError);
});
