import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackedCodes, hammingDistance, readCodesFile, writeCodesFile, validateBits } from '../../src/codes/packed-codes.js';
import { CorruptDataError, InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

test('bit order: bit j is bit j mod 32 of uint32 j/32 (bit j mod 64 of 64-bit word j/64); +1 is a set bit', () => {
  const bits = 128, row = new Array(bits).fill(-1);
  row[0] = 1; row[33] = 1; row[64] = 1; row[127] = 1;
  const c = PackedCodes.fromSigns([row]);
  assert.deepEqual([...c.data], [1, 2, 1, 0x80000000]);
  assert.equal(c.words64, 2);
  assert.equal(c.bit(0, 33), 1);
  assert.equal(c.bit(0, 34), 0);
});

test('conversions: ±1, 0/1 and sign of reals (0 → +1) agree; toSigns/toBinary round-trip', () => {
  const rng = new Rng(1);
  for (const bits of [8, 24, 64, 72, 1024]) {
    const n = 5, real = new Float32Array(n * bits);
    for (let i = 0; i < real.length; i++) real[i] = rng.int(3) - 1; // includes exact zeros
    const signs = real.map((v) => (v >= 0 ? 1 : -1));
    const bin = Uint8Array.from(signs, (v) => (v > 0 ? 1 : 0));
    const a = PackedCodes.fromReal(real, n, bits), b = PackedCodes.fromSigns(signs, n, bits), c = PackedCodes.fromBinary(bin, n, bits);
    assert.ok(a.equals(b) && b.equals(c));
    assert.deepEqual([...a.toSigns()], [...signs]);
    assert.deepEqual([...a.toBinary()], [...bin]);
    // padding bits past `bits` stay zero
    for (let i = 0; i < n; i++) for (let j = bits; j < a.words64 * 64; j++) assert.equal((a.data[i * a.stride + (j >>> 5)]! >>> (j & 31)) & 1, 0);
  }
  assert.equal(PackedCodes.fromReal([[-0, 0, 0.5, -0.5, 1, -1, 2, -3]]).toSigns().join(','), '1,1,1,-1,1,-1,1,-1');
});

test('Hamming distance equals the number of differing signs', () => {
  const rng = new Rng(2);
  for (const bits of [8, 40, 64, 136]) {
    const n = 6, s = Float32Array.from({ length: n * bits }, () => (rng.uniform() < 0.5 ? 1 : -1));
    const c = PackedCodes.fromSigns(s, n, bits);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let want = 0;
      for (let b = 0; b < bits; b++) if (s[i * bits + b] !== s[j * bits + b]) want++;
      assert.equal(c.distance(i, c, j), want);
      assert.equal(hammingDistance(c.code(i), c.code(j)), want);
    }
  }
});

test('bad input: widths, values, shapes', () => {
  assert.throws(() => validateBits(12), InputError);
  assert.throws(() => validateBits(1032), InputError);
  assert.throws(() => PackedCodes.fromSigns([[1, 0, 1, 1, 1, 1, 1, 1]]), /not allowed/);
  assert.throws(() => PackedCodes.fromBinary([[2, 0, 1, 1, 1, 1, 1, 1]]), InputError);
  assert.throws(() => PackedCodes.fromReal([NaN, 0, 0, 0, 0, 0, 0, 0], 1, 8), InputError);
  assert.throws(() => PackedCodes.fromSigns(new Float32Array(15), 2, 8), /expected 2×8/);
  assert.throws(() => PackedCodes.fromSigns([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1]]), /row 1/);
  const a = PackedCodes.alloc(8, 1), b = PackedCodes.alloc(16, 1);
  assert.throws(() => a.distance(0, b, 0), InputError);
});

test('code file: round trip, truncation and damage are CorruptDataError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmhash-codes-'));
  try {
    const rng = new Rng(3), c = PackedCodes.alloc(72, 33);
    for (let i = 0; i < c.count; i++) for (let j = 0; j < 72; j++) if (rng.uniform() < 0.5) c.data[i * c.stride + (j >>> 5)]! |= 1 << (j & 31);
    const p = join(dir, 'c.codes');
    writeCodesFile(p, c);
    assert.ok(readCodesFile(p).equals(c));
    const bytes = readFileSync(p);
    writeFileSync(join(dir, 't.codes'), bytes.subarray(0, bytes.length - 9));
    assert.throws(() => readCodesFile(join(dir, 't.codes')), (e: Error) => e instanceof CorruptDataError && /truncated/.test(e.message));
    const bad = Buffer.from(bytes); bad[60] ^= 1;
    writeFileSync(join(dir, 'b.codes'), bad);
    assert.throws(() => readCodesFile(join(dir, 'b.codes')), /checksum/);
    const newer = Buffer.from(bytes); newer.writeUInt32LE(99, 4);
    writeFileSync(join(dir, 'n.codes'), newer);
    assert.throws(() => readCodesFile(join(dir, 'n.codes')), /newer cmhash/);
    writeFileSync(join(dir, 'x.codes'), 'hello world, not codes at all........................');
    assert.throws(() => readCodesFile(join(dir, 'x.codes')), CorruptDataError);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
