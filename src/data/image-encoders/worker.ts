// One encoder thread of an EncoderPool: loads the named encoder once, then encodes the files it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { getImageEncoder } from './encoder.js';

const port = parentPort!;
const ready = getImageEncoder((workerData as { encoder: string }).encoder);
ready.then((e) => port.postMessage({ type: 'ready', version: e.version, dim: e.dim }), (err: Error) => port.postMessage({ type: 'ready', error: err.message }));
port.on('message', async (m: { id: number; path: string }) => {
  try {
    const v = await (await ready).encodeFile(m.path);
    port.postMessage({ id: m.id, v }, [v.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).message });
  }
});
