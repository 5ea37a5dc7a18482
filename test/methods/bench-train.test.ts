import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { benchCmhashTrainStep, pytorchScriptPath, torchUnavailable } from '../../src/cli/commands/bench-train.js';

test('bench train: the timed step runs on a small shape; the PyTorch script is found; a missing interpreter is reported, not fatal', () => {
  const sps = benchCmhashTrainStep({ batch: 16, imageDim: 40, textDim: 30, hidden: 32, bits: 16 }, 3, 1);
  assert.ok(sps > 0 && Number.isFinite(sps));
  assert.ok(existsSync(pytorchScriptPath()), pytorchScriptPath());
  assert.match(torchUnavailable('/nonexistent/python3')!, /not found/);
});
