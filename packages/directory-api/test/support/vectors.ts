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
  let text: string;
  try {
    text = readFileSync(DIRECTORY_CID_VECTORS_FILE, 'utf8');
  } catch (error) {
    throw new Error(`the Directory's CID vectors are expected at ${DIRECTORY_CID_VECTORS_FILE} (../shared beside the clone): ${(error as Error).message}`);
  }
  return JSON.parse(text) as DirectoryCidVectors;
}
