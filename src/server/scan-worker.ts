// The worker thread of ScanOffload (scan-offload.ts): holds shared copies of code sets and answers
// batched k-NN scans with the native kernel, so the service's event loop keeps parsing requests
// and writing answers while a batch is scanned.
//
// Messages in order: {op: 'load', key, data (a copy of the codes), n, words64,
// drop?} registers a code set; {op: 'knn', id, key, queries, nq, k} scans it and posts
// {id, pos, dist} (transferred) or {id, error}.
import { parentPort } from 'node:worker_threads';
import { getBackend } from '../tensor/backends.js';

interface Space { data: Uint32Array; n: number; words64: number }
type Msg =
  | { op: 'load'; key: number; data: Uint32Array; n: number; words64: number; drop?: number }
  | { op: 'knn'; id: number; key: number; queries: Uint32Array; nq: number; k: number };

const spaces = new Map<number, Space>();
const port = parentPort!;
const be = getBackend();
port.postMessage({ op: 'ready', backend: `${be.name}/${be.variant}` });

port.on('message', (m: Msg) => {
  if (m.op === 'load') {
    if (m.drop !== undefined) spaces.delete(m.drop);
    spaces.set(m.key, { data: m.data, n: m.n, words64: m.words64 });
    return;
  }
  try {
    const s = spaces.get(m.key);
    if (!s) throw new Error(`scan worker: code set ${m.key} not loaded`);
    const pos = new Int32Array(m.nq * m.k), dist = new Int32Array(m.nq * m.k);
    be.hammingKnn(m.queries, m.nq, s.data, s.n, s.words64, m.k, pos, dist);
    port.postMessage({ id: m.id, pos, dist }, [pos.buffer, dist.buffer]);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).message });
  }
});
