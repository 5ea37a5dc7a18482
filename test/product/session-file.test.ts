// The session file between the relay thread and the training process (session-file.ts): the arrays
// come back exactly (odd lengths, NaN and -0 bit patterns), the file is removed once read, a cut
// file names itself and its length, an existing path is never overwritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSessionArrays, writeSessionArrays } from '../../src/product/session-file.js';

function arrays(n: number, dI: number, dT: number, c: number) {
  const image = new Float32Array(n * dI).map((_, i) => Math.sin(i) * 1e3);
  const text = new Float32Array(n * dT).map((_, i) => (i % 7) - 3.5);
  image[1] = NaN; text[2] = -0;
  const labels = new Uint8Array(n * c).map((_, i) => (i * 31) % 2);
  return { image, text, labels };
}

test('session file: arrays round-trip bit for bit, the file is removed after reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-session-file-'));
  try {
    for (const [n, dI, dT, c] of [[1, 1, 1, 1], [37, 129, 3, 5], [300, 128, 256, 11]] as const) {
      const s = arrays(n, dI, dT, c);
      const path = join(dir, `s-${n}.bin`);
      const f = writeSessionArrays(path, s);
      assert.deepEqual([f.image, f.text, f.labels], [n * dI, n * dT, n * c]);
      const back = readSessionArrays(f);
      assert.deepEqual(new Uint8Array(back.image.buffer), new Uint8Array(s.image.buffer));
      assert.deepEqual(new Uint8Array(back.text.buffer), new Uint8Array(s.text.buffer));
      assert.deepEqual(back.labels, s.labels);
      assert.equal(existsSync(path), false);
    }
    // a view into a larger buffer writes only its own elements
    const big = new Float32Array(100).map((_, i) => i);
    const f = writeSessionArrays(join(dir, 'view.bin'), { image: big.subarray(10, 20), text: big.subarray(50, 53), labels: new Uint8Array([1, 0]) });
    const back = readSessionArrays(f);
    assert.deepEqual(Array.from(back.image), Array.from(big.subarray(10, 20)));
    assert.deepEqual(Array.from(back.text), [50, 51, 52]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('session file: a cut file is refused with its path and byte counts; an existing path is not overwritten', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-session-file-'));
  try {
    const s = arrays(4, 8, 8, 2);
    const path = join(dir, 'cut.bin');
    const f = writeSessionArrays(path, s);
    truncateSync(path, 4 * 8 * 4 + 10);
    assert.throws(() => readSessionArrays(f), (e: Error) => e.message.includes(path) && /ends after 10 of 128 bytes/.test(e.message));
    const taken = join(dir, 'taken.bin');
    writeFileSync(taken, 'x');
    assert.throws(() => writeSessionArrays(taken, s), /EEXIST/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
