/**
 * Upstream CAs kept in a folder: one subfolder per trust domain holding exactly the files of the
 * upstream CA Secret (`UPSTREAM_CA_FILES`, the key mode 0600), so a Kind script can create the Secret
 * from it (`kubectl create secret generic <secret> --from-file=<folder>/<td>`).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UPSTREAM_CA_FILES } from '../topology/model';
import { checkUpstreamCa, createUpstreamCa, upstreamCaFiles, type UpstreamCa } from './upstream-ca';

export interface StoredUpstreamCa {
  readonly ca: UpstreamCa;
  /** The folder with the CA's files. */
  readonly dir: string;
  /** Whether it was made just now rather than read. */
  readonly created: boolean;
}

/** The CA of each of `trustDomains` from `folder`, creating the ones that are missing. */
export async function loadOrCreateUpstreamCas(folder: string, trustDomains: readonly string[]): Promise<Record<string, StoredUpstreamCa>> {
  const entries = await Promise.all(trustDomains.map(async (td) => [td, await loadOrCreate(folder, td)] as const));
  return Object.fromEntries(entries);
}

async function loadOrCreate(folder: string, trustDomain: string): Promise<StoredUpstreamCa> {
  const dir = path.join(folder, trustDomain);
  const certFile = path.join(dir, UPSTREAM_CA_FILES.certificate);
  const keyFile = path.join(dir, UPSTREAM_CA_FILES.key);
  if (existsSync(certFile) || existsSync(keyFile)) {
    const ca = { trustDomain, certificatePem: read(certFile), privateKeyPem: read(keyFile) };
    try {
      checkUpstreamCa(ca);
    } catch (error) {
      throw new Error(
        `${(error as Error).message} (in ${dir}). Delete that folder to make a new CA; peers seeded with the old root must then be seeded again.`,
      );
    }
    return { ca, dir, created: false };
  }
  const ca = await createUpstreamCa(trustDomain);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = upstreamCaFiles(ca);
  writeAtomically(keyFile, files.key, 0o600);
  writeAtomically(path.join(dir, UPSTREAM_CA_FILES.bundle), files.bundle, 0o644);
  writeAtomically(certFile, files.certificate, 0o644);
  return { ca, dir, created: true };
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}. Delete its folder to make a new upstream CA.`);
  }
}

function writeAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}
