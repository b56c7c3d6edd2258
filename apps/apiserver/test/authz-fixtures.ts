import { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';

export const OWN = TrustDomain.parse('dir.example');

const STORE = '/agntcy.dir.store.v1.StoreService';
const SYNC = '/agntcy.dir.store.v1.SyncService';

/** The 12 Store and Sync methods, written out here rather than imported so that tests check the real names. */
export const STORE_SYNC_METHODS = [
  `${STORE}/Push`,
  `${STORE}/Pull`,
  `${STORE}/Lookup`,
  `${STORE}/Delete`,
  `${STORE}/PushReferrer`,
  `${STORE}/PullReferrer`,
  `${STORE}/DeleteReferrer`,
  `${SYNC}/CreateSync`,
  `${SYNC}/ListSyncs`,
  `${SYNC}/GetSync`,
  `${SYNC}/DeleteSync`,
  `${SYNC}/RequestRegistryCredentials`,
] as const;

export const PULL = `${STORE}/Pull`;
export const PULL_REFERRER = `${STORE}/PullReferrer`;
export const PUSH = `${STORE}/Push`;

export const id = (text: string): SpiffeId => SpiffeId.parse(text);

/** Callers whose trust domain only resembles `dir.example`; each is foreign. */
export const LOOKALIKE_CALLERS = [
  'spiffe://dir.example.evil/ns/dir/sa/apiserver',
  'spiffe://evil-dir.example/ns/dir/sa/apiserver',
  'spiffe://dir-example/ns/dir/sa/apiserver',
  'spiffe://dirxexample/ns/dir/sa/apiserver',
  'spiffe://xdir.example/ns/dir/sa/apiserver',
  'spiffe://dir.exampl/ns/dir/sa/apiserver',
  'spiffe://dir.example./ns/dir/sa/apiserver',
  'spiffe://sub.dir.example/ns/dir/sa/apiserver',
] as const;
