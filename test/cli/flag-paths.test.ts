// Files and folders named by flags: a missing one is `cmhash: --flag path: no such file|folder`
// (exit 3), a folder where a file is expected or a file where a folder is expected is exit 2, and
// never a raw ENOENT / EISDIR / EEXIST with exit 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, tinyDemo, type CliResult } from './tiny-demo.js';

let root = '';
let demo = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'cmhash-flag-paths-')); demo = join(root, 'demo'); tinyDemo(demo); });
after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

/** One line on stderr, exactly `cmhash: <message>`, and the exit code. */
function fails(r: CliResult, status: number, message: string): void {
  assert.equal(r.stderr, `cmhash: ${message}\n`);
  assert.equal(r.status, status);
}

test('a missing file named by --image, --features, --items, --ids-file or --token-file: exit 3, naming the flag', () => {
  const cases: [string[], string, string][] = [
    [['search', demo, '--image', 'nosuch.jpg'], '--image', 'nosuch.jpg'],
    [['search', demo, '--modality', 'image', '--features', 'nosuch.json'], '--features', 'nosuch.json'],
    [['search', demo, '--modality', 'image', '--features', 'nosuch.npy'], '--features', 'nosuch.npy'],
    [['encode', '--model', demo, '--modality', 'image', '--features', 'nosuch.json'], '--features', 'nosuch.json'],
    [['encode', '--model', demo, '--image', 'nosuch.jpg'], '--image', 'nosuch.jpg'],
    [['add', demo, '--id', 'x', '--image', 'nosuch.jpg'], '--image', 'nosuch.jpg'],
    [['add', demo, '--items', 'nosuch.jsonl'], '--items', 'nosuch.jsonl'],
    [['update', demo, '--items', 'nosuch.jsonl'], '--items', 'nosuch.jsonl'],
    [['remove', demo, '--ids-file', 'nosuch.txt'], '--ids-file', 'nosuch.txt'],
    [['serve', demo, '--port', '0', '--token-file', 'nosuch.txt'], '--token-file', 'nosuch.txt'],
  ];
  for (const [args, flag, path] of cases) fails(cli(args, { cwd: root, timeout: 20_000 }), 3, `${flag} ${path}: no such file`);
});

test('a folder where a file is expected: exit 2', () => {
  fails(cli(['search', demo, '--image', root]), 2, `--image ${root}: a folder, expected a file`);
  fails(cli(['remove', demo, '--ids-file', root]), 2, `--ids-file ${root}: a folder, expected a file`);
  fails(cli(['add', demo, '--items', root]), 2, `--items ${root}: a folder, expected a file`);
});

test('export --onnx <a file>: exit 2, the file untouched', () => {
  const f = join(root, 'f');
  writeFileSync(f, 'x\n');
  fails(cli(['export', demo, '--onnx', f]), 2, `--onnx ${f}: exists and is not a folder`);
  assert.equal(readFileSync(f, 'utf8'), 'x\n');
  fails(cli(['export', demo, '--onnx', join(f, 'sub')]), 2, `--onnx ${join(f, 'sub')}: a part of the path is a file, not a folder`);
});

test('output paths of the wrong kind are refused before any work: a folder for a file, a file for a folder (exit 2)', () => {
  const f = join(root, 'plain-file');
  writeFileSync(f, 'x\n');
  fails(cli(['encode', '--model', demo, '--text', 'w1 w2', '--out', root]), 2, `--out ${root}: a folder, expected a file`);
  fails(cli(['train', '--method', 'cca', '--data', 'synthetic:200:4', '--bits', '16', '--report', root]), 2, `--report ${root}: a folder, expected a file`);
  fails(cli(['eval', '--model', demo, '--data', 'synthetic:300', '--report', root]), 2, `--report ${root}: a folder, expected a file`);
  fails(cli(['train', '--method', 'cca', '--data', 'synthetic:200:4', '--bits', '16', '--out', f]), 2, `--out ${f}: exists and is not a folder`);
  fails(cli(['continual', '--method', 'ccmh-gam', '--data', 'synthetic:200:4', '--sessions', '2+2', '--epochs', '1', '--out', f]), 2, `--out ${f}: exists and is not a folder`);
  assert.equal(readFileSync(f, 'utf8'), 'x\n');
});

test('serve --root: a missing folder is exit 3, a file exit 2', () => {
  const missing = join(root, 'nonexistent');
  fails(cli(['serve', '--root', missing, '--port', '0'], { timeout: 20_000 }), 3, `--root ${missing}: no such folder`);
  const f = join(root, 'g');
  writeFileSync(f, '');
  fails(cli(['serve', '--root', f, '--port', '0'], { timeout: 20_000 }), 2, `--root ${f}: not a folder`);
});
