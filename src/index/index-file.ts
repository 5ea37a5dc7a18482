// Every index kind round-trips through the same file (magic CMHI, see code-file.ts): the codes in
// insertion order, their ids, and the kind and parameters needed to rebuild it (derived tables
// such as multi-index substring tables are rebuilt on load, not stored).
import type { CodeIndex } from './code-index.js';
import { readCodeFile, writeCodeFile, type CodeFileRead } from '../codes/code-file.js';

export const INDEX_KIND_CODE = { flat: 0, multi: 1 } as const;

export function saveIndexFile(path: string, index: CodeIndex & { requestedSubstrings?: number }): void {
  const codes = index.codes();
  writeCodeFile(path, {
    magic: 'CMHI', bits: codes.bits, count: codes.count, codes: codes.data, ids: index.ids(),
    param0: INDEX_KIND_CODE[index.kind], param1: index.requestedSubstrings ?? 0,
  });
}

export function readIndexFile(path: string): CodeFileRead { return readCodeFile(path, 'CMHI'); }
