/**
 * `../shared/vectors/directory-cid.json` beside the clone: CIDs computed by the real Directory's algorithm
 * (never regenerated here).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DIRECTORY_CID_VECTORS_FILE = path.resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'vectors', 'directory-cid.json');

export interface DirectoryCidVectors {
  readonly bytesVector: { readonly input: string; readonly cid: string };
  readonly records: ReadonlyArray<{ readonly recordJson: string; readonly canonicalJson: string; readonly cid: string }>;
}

export function directoryCidVectors(): DirectoryCidVectors {
  return JSON.parse(readFileSync(DIRECTORY_CID_VECTORS_FILE, 'utf8')) as DirectoryCidVectors;
}
