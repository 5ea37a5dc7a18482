// `cmhash export <model|collection> --onnx <dir>`: the image and text encoders up to the code layer
// as ONNX files (input [N, dim] float32 "features", output "code" [N, bits]; code = sign, 0 → +1).
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Output } from '../output.js';
import { exportOnnx } from '../../export/onnx.js';
import { encoderLayersFromCheckpoint } from '../../methods/registry.js';
import { checkpointOf } from '../checkpoint-of.js';
import { makeFlagFolder } from '../flag-paths.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

interface ExportOptions { onnx?: string; opset: string; json?: boolean }

export function register(program: Command): void {
  program.command('export')
    .description('export a trained model\'s image and text encoders (up to the code layer) as ONNX files')
    .argument('<model>', 'a model checkpoint (.ckpt) or a collection directory (its current model)')
    .option('--onnx <dir>', 'write image-encoder.onnx, text-encoder.onnx and encoders.json into this folder')
    .option('--opset <n>', 'ONNX opset (9–21)', '13')
    .option('--json', 'print {"method","bits","files":[{"modality","path","input_dim","bytes"}]}')
    .addHelpText('after', `
The ONNX graphs take float32 features [N, dim] (input "features") and return the real-valued code layer
"code" [N, bits]; the binary code is its sign with 0 → +1, exactly as cmhash encodes.
Example:
  cmhash export cmhash-demo/synthetic --onnx exported/
  cmhash export models/ccmh-gam-64.ckpt --onnx out --json`)
    .action(async (model: string, o: ExportOptions) => {
      const out = new Output(!!o.json);
      if (!o.onnx) throw new InputError('choose a format: --onnx <dir> (the only one so far)');
      const opset = Number(o.opset);
      if (!Number.isInteger(opset)) throw new InputError(`--opset: expected an integer, got ${o.opset}`);
      const ckpt = checkpointOf(model);
      const enc = encoderLayersFromCheckpoint(ckpt);
      makeFlagFolder('--onnx', o.onnx);
      const files = [];
      for (const m of ['image', 'text'] as const) {
        const path = join(o.onnx, `${m}-encoder.onnx`);
        const s = await exportOnnx(enc[m], path, { inputName: 'features', opset, graphName: `cmhash-${enc.method}-${m}`, producerName: 'cmhash' });
        files.push({ modality: m, path: s.path, input_dim: s.inputDim, output_dim: s.outputDim, bytes: s.bytes, opset: s.opset });
        out.text(`${m} encoder → ${s.path} (${s.inputDim} → ${s.outputDim}, ${(s.bytes / 1024).toFixed(0)} KiB, opset ${s.opset})`);
      }
      const manifest = { method: enc.method, kind: enc.kind, bits: enc.bits, checkpoint: resolve(ckpt), input: 'features', output: 'code', code_rule: 'sign(code), 0 -> +1', files };
      writeFileAtomic(join(o.onnx, 'encoders.json'), JSON.stringify(manifest, null, 2) + '\n');
      out.record(manifest);
    });
}
