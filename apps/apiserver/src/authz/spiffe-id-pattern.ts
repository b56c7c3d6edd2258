/**
 * SPIFFE ID patterns: an exact trust domain and a path glob matched segment by segment on the parsed
 * ID, anchored at both ends. `*` is exactly one segment and `**` any number of segments (zero included);
 * a wildcard is always a whole segment.
 */
import { SpiffeId, SpiffeIdError, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { PatternError } from './errors';

const SCHEME = 'spiffe://';
const ONE_SEGMENT = '*';
const ANY_SEGMENTS = '**';

export class SpiffeIdPattern {
  private constructor(
    readonly text: string,
    readonly trustDomain: TrustDomain,
    private readonly segments: readonly string[],
  ) {}

  static parse(text: string): SpiffeIdPattern {
    if (!text.startsWith(SCHEME)) {
      throw new PatternError(`SPIFFE ID pattern ${JSON.stringify(text)} must start with "${SCHEME}"`);
    }
    const rest = text.slice(SCHEME.length);
    const slash = rest.indexOf('/');
    const path = slash === -1 ? '' : rest.slice(slash);
    try {
      const trustDomain = TrustDomain.parse(slash === -1 ? rest : rest.slice(0, slash));
      const segments = path === '' ? [] : path.slice(1).split('/');
      for (const segment of segments) {
        if (segment === ONE_SEGMENT || segment === ANY_SEGMENTS) continue;
        if (segment.includes('*')) {
          throw new PatternError(`SPIFFE ID pattern ${JSON.stringify(text)} has the segment ${JSON.stringify(segment)}: "*" and "**" must be whole segments`);
        }
        // The strict ID parser checks each literal segment's characters, emptiness and dot segments.
        trustDomain.withPath(`/${segment}`);
      }
      return new SpiffeIdPattern(text, trustDomain, segments);
    } catch (error) {
      if (error instanceof SpiffeIdError) {
        throw new PatternError(`SPIFFE ID pattern ${JSON.stringify(text)}: ${error.rule}`);
      }
      throw error;
    }
  }

  matches(id: SpiffeId): boolean {
    return id.trustDomain.equals(this.trustDomain) && pathMatches(this.segments, id.path);
  }

  toString(): string {
    return this.text;
  }
}

/**
 * Matches a validated ID path (`""` or `/a/b`) without splitting it, since this runs on every call.
 * Wildcard matching that backtracks to the last `**` only: never worse than pattern × path segments,
 * however many `**` the pattern has. `at` is the index of the `/` that starts the next unmatched
 * segment, or `path.length` when none is left.
 */
function pathMatches(pattern: readonly string[], path: string): boolean {
  let p = 0;
  let at = 0;
  let lastAny = -1;
  let resumeAt = 0;
  while (at < path.length) {
    const token = pattern[p];
    if (token === ANY_SEGMENTS) {
      lastAny = p++;
      resumeAt = at;
      continue;
    }
    const end = segmentEnd(path, at);
    if (token !== undefined && (token === ONE_SEGMENT || (end - at - 1 === token.length && path.startsWith(token, at + 1)))) {
      p++;
      at = end;
    } else if (lastAny !== -1) {
      // Let the last "**" swallow one more segment and retry the rest of the pattern after it.
      p = lastAny + 1;
      resumeAt = segmentEnd(path, resumeAt);
      at = resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p] === ANY_SEGMENTS) p++;
  return p === pattern.length;
}

function segmentEnd(path: string, at: number): number {
  const next = path.indexOf('/', at + 1);
  return next === -1 ? path.length : next;
}
