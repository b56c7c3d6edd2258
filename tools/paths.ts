/**
 * Where the project and its build cache are. The cache holds what is expensive to build (SPIRE, the Kind
 * images, Pulumi, the go-spiffe peer), outside the clone, so fresh clones and CI reuse it.
 */
import { homedir } from 'node:os';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** `DIRTK_CACHE_DIR` moves the cache; by default it is `$XDG_CACHE_HOME/dirtk` or `~/.cache/dirtk`. */
export const CACHE_ROOT = process.env.DIRTK_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'dirtk');
