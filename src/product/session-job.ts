// What a session job runs, wherever it was submitted: the session update with the job's progress
// (epochs while training, then the stage). The job id goes into the session record, where a unique
// index (PostgreSQL) keeps a job from committing twice (durable-jobs.ts).
import type { ItemInput, Collection } from './collection.js';
import type { JobView } from './jobs.js';
import { applySessionUpdate } from './session-update.js';
import type { SessionRequest } from './durable-jobs.js';

export function sessionJobRunner(inWorker: boolean) {
  return (c: Collection, items: ItemInput[], req: SessionRequest, jobId: string | null, progress: (p: JobView['progress']) => void): Promise<unknown> => {
    let at: { epoch?: number; epochs?: number } = {};
    return applySessionUpdate(c, items, {
      name: req.name, epochs: req.epochs, seed: req.seed, inWorker, ...(jobId ? { jobId } : {}),
      onProgress: (p) => { at = { epoch: p.epoch, epochs: p.epochs }; progress({ ...at, message: 'training' }); },
      onStage: (stage) => progress({ ...at, message: stage }),
    });
  };
}
