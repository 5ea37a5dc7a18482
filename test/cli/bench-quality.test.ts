// `cmhash bench quality` end to end on generated data: the table has the method, the baseline of the
// same runs and the chance level, mean ± sd over the seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

test('bench quality writes the train table with baseline and chance rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-quality-'));
  try {
    const out = join(dir, 'q.md');
    const r = spawnSync(process.execPath, [resolve('bin/cmhash.js'), 'bench', 'quality', '--protocol', 'train', '--methods', 'dcmh', '--cases', '2',
      '--seeds', '1,2', '--bits', '8', '--extra', '--epochs 1 --hidden 8', '--out', out], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const md = readFileSync(out, 'utf8');
    assert.match(md, /### train, 8 bits/);
    assert.match(md, /\| dcmh \| 0\.\d{3} ± 0\.\d{3} \/ 0\.\d{3} ± 0\.\d{3} \|/, 'mean ± sd over two seeds');
    assert.match(md, /\| linear \(beside dcmh\) \| /);
    assert.match(md, /\| chance \| 0\.\d{3} \/ 0\.\d{3} \|/);
    const bad = spawnSync(process.execPath, [resolve('bin/cmhash.js'), 'bench', 'quality', '--methods', 'nope'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--methods: "nope" is not one of dcmh, dbrc, ccmh-gam/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
