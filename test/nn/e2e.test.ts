// End-to-end: a 2-layer MLP with ATanh learns a small synthetic task with Adam (loss falls by
// more than 10x) on both backends, and the same seed gives bit-identical results on one backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, getJsBackend, setBackend } from '../../src/tensor/backends.js';
import type { Backend } from '../../src/tensor/backend.js';
import { trainToy } from './toy-task.js';

const defaultBackend = getBackend();

function onBackend<T>(b: Backend, fn: () => T): T {
  const prev = getBackend();
  setBackend(b);
  try { return fn(); } finally { setBackend(prev); }
}

function checkLearns(b: Backend, mode: 'linear' | 'nonlinear'): void {
  const r1 = onBackend(b, () => trainToy(7, mode));
  const first = r1.losses[0]!, last = r1.losses[r1.losses.length - 1]!;
  assert.ok(first / last > 10, `${b.name}/${mode}: loss ${first.toFixed(4)} → ${last.toFixed(4)} fell only ${(first / last).toFixed(1)}x`);
  const r2 = onBackend(b, () => trainToy(7, mode));
  assert.deepEqual(r2.losses, r1.losses, 'same seed, same losses');
  assert.deepEqual(Buffer.from(r2.params.buffer), Buffer.from(r1.params.buffer), 'same seed, bit-identical weights');
  assert.deepEqual(Array.from(r2.codes), Array.from(r1.codes));
  // eslint-disable-next-line no-console
  console.log(`e2e ${b.name}/${mode}: loss ${first.toFixed(4)} → ${last.toFixed(5)} (${(first / last).toFixed(0)}x)`);
}

for (const mode of ['linear', 'nonlinear'] as const) {
  test(`e2e ATanh-${mode} MLP learns with Adam: portable backend`, () => checkLearns(getJsBackend(), mode));
  test(`e2e ATanh-${mode} MLP learns with Adam: native backend`, (t) => {
    if (defaultBackend.name !== 'native') { t.skip(`native backend not active (default is '${defaultBackend.name}'); native run skipped`); return; }
    checkLearns(defaultBackend, mode);
  });
}
