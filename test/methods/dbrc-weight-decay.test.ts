// DBRC's default weight decay (docs/experiments/2026-12-dbrc-vs-cca.md): without it the pathways
// memorise the training pairs — on the MIRFlickr photo rows the image-only and text-only codes of a
// training item agreed on 95% of the bits and those of an unseen item on 51% (chance) — and the
// coupled L2 decay of Adam keeps them small enough to carry the agreement to unseen items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dbrc, DBRC_DEFAULTS, DBRC_OPTIONS } from '../../src/methods/dbrc.js';
import type { Module } from '../../src/nn/module.js';
import { tinyData } from './fixture.js';

/** Share of bits on which the image-only and the text-only code of the same item agree. */
function agreement(h: Dbrc, d: ReturnType<typeof tinyData>): number {
  const a = h.encode('image', d.image, d.n).values, b = h.encode('text', d.text, d.n).values;
  let same = 0;
  for (let i = 0; i < a.length; i++) if ((a[i]! >= 0) === (b[i]! >= 0)) same++;
  return same / a.length;
}

/** ‖θ‖ of a pathway (the nets are private; the test reads them as the checkpoint does). */
function pathwayNorm(h: Dbrc, which: 'imageEnc' | 'textEnc'): number {
  const nets = (h as unknown as { nets: Record<string, Module> }).nets;
  let s = 0;
  for (const p of nets[which]!.parameters()) for (const v of p.data) s += v * v;
  return Math.sqrt(s);
}

test('DBRC weight decay: the default is DBRC_DEFAULTS.weightDecay (3e-3), the option schema says so, 0 is the model before', async () => {
  assert.equal(DBRC_DEFAULTS.weightDecay, 3e-3);
  assert.equal(DBRC_OPTIONS.weightDecay!.default, DBRC_DEFAULTS.weightDecay);
  const train = tinyData(160, 1), query = tinyData(20, 3);
  const fit = async (o: { weightDecay?: number }) => {
    const h = new Dbrc({ bits: 8, hidden: 16 });
    await h.fit(train, { bits: 8, epochs: 3, seed: 4, ...o });
    return h.encode('image', query.image, query.n).values;
  };
  const byDefault = await fit({}), explicit = await fit({ weightDecay: 3e-3 }), none = await fit({ weightDecay: 0 });
  assert.deepEqual(byDefault, explicit);
  assert.notDeepEqual(byDefault, none);
  await assert.rejects(new Dbrc({ bits: 8, hidden: 8 }).fit(train, { bits: 8, epochs: 1, weightDecay: -1 }), /option weightDecay must be ≥ 0, got -1/);
});

test('DBRC weight decay: on few wide noisy items the pathways stay small and unseen items\' two codes agree more than without it', async () => {
  // Few items, wide features with much noise: the pathways can memorise the training pairs
  // (~1,800 steps, like 300 epochs of the MIRFlickr photo rows).
  const shape = { imageDim: 160, textDim: 120, noise: 1.0, classes: 6 };
  const train = tinyData(96, 1, shape), unseen = tinyData(200, 7, shape);
  const fit = async (weightDecay: number) => {
    const h = new Dbrc({ bits: 16, hidden: 64 });
    await h.fit(train, { bits: 16, epochs: 300, batchSize: 16, seed: 2, weightDecay });
    return h;
  };
  const off = await fit(0), on = await fit(DBRC_DEFAULTS.weightDecay);
  for (const which of ['imageEnc', 'textEnc'] as const) {
    assert.ok(pathwayNorm(on, which) < 0.8 * pathwayNorm(off, which), `${which}: ‖θ‖ ${pathwayNorm(on, which).toFixed(1)} with decay vs ${pathwayNorm(off, which).toFixed(1)} without`);
  }
  const a = { trainOff: agreement(off, train), unseenOff: agreement(off, unseen), trainOn: agreement(on, train), unseenOn: agreement(on, unseen) };
  assert.ok(a.trainOff > a.unseenOff + 0.2, `without decay the training pairs are memorised: ${JSON.stringify(a)}`);
  assert.ok(a.unseenOn > a.unseenOff + 0.03, `decay carries the agreement to unseen items: ${JSON.stringify(a)}`);
});
