/**
 * Every config the renderer produces must pass the real SPIRE binaries' `validate`, built by
 * `npm run setup` (which `npm test` runs first).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { renderAgentConfig } from '../../spire/config/agent-config';
import type { ServerPlacement } from '../../spire/config/placement';
import { serializeSpireConfig } from '../../spire/config/blocks';
import { renderServerConfig } from '../../spire/config/server-config';
import { ensureSpire } from '../../spire/build/install';
import { kubernetesAgentPlacement, kubernetesServerPlacement } from '../../spire/kubernetes/placement';
import { validateAgentConfig, validateServerConfig } from '../../spire/process/validate';
import type { TrustDomain } from '../../topology';
import { makeSelfSignedCa, type PemPair } from '../support/openssl-ca';
import { processAgentPlacement, processServerPlacement, rendererVariants } from './config-variants';

const POSTGRES_ENV = { SPIRE_DATASTORE_CONNECTION_STRING: 'dbname=spire host=127.0.0.1 user=spire sslmode=disable' };
let ca: PemPair;

/** Renders and validates a server.conf, supplying real certificate files wherever the placement names them. */
function validateServer(td: TrustDomain, placement: ServerPlacement) {
  const files: Record<string, string> = {};
  if (placement.bundleEndpointServingCert) {
    files[placement.bundleEndpointServingCert.certFile] = ca.certPem;
    files[placement.bundleEndpointServingCert.keyFile] = ca.keyPem;
  }
  if (placement.nodeAttestor.type === 'x509pop') files[placement.nodeAttestor.caBundlePath] = ca.certPem;
  return validateServerConfig(serializeSpireConfig(renderServerConfig(td, placement)), { env: POSTGRES_ENV, files });
}

function processPlacementFor(td: TrustDomain): ServerPlacement {
  return processServerPlacement('/tmp/dirtk-validate', {
    ...(td.server.upstreamAuthority && {
      upstreamAuthority: { certFile: '/tmp/ca/tls.crt', keyFile: '/tmp/ca/tls.key', bundleFile: '/tmp/ca/bundle.crt' },
    }),
    ...(td.bundleEndpoint?.profile === 'https_web' && {
      bundleEndpointServingCert: { certFile: '/tmp/web/tls.crt', keyFile: '/tmp/web/tls.key' },
    }),
    ...(td.server.datastore.type === 'postgres' && { postgresConnectionString: '${SPIRE_DATASTORE_CONNECTION_STRING}' }),
  });
}

describe('rendered SPIRE configs pass the real validate', () => {
  beforeAll(async () => {
    await ensureSpire();
    ca = await makeSelfSignedCa('dirtk test CA');
  }, 1_800_000);

  describe.each(rendererVariants())('%s', (_name, td) => {
    it('server.conf for Kubernetes', async () => {
      const result = await validateServer(td, kubernetesServerPlacement(td));
      expect(result.output).toContain('SPIRE server configuration file is valid');
      expect(result.valid).toBe(true);
    });

    it('server.conf for a local process with static federation', async () => {
      const result = await validateServer(td, processPlacementFor(td));
      expect(result.output).toContain('SPIRE server configuration file is valid');
      expect(result.valid).toBe(true);
    });

    it('agent.conf for Kubernetes', async () => {
      const result = await validateAgentConfig(serializeSpireConfig(renderAgentConfig(td, kubernetesAgentPlacement(td))));
      expect(result.output).toContain('SPIRE agent configuration file is valid');
      expect(result.valid).toBe(true);
    });
  });

  it('agent.conf for a local process with join_token or x509pop attestation, with and without workload path discovery', async () => {
    const [, td] = rendererVariants()[0]!;
    for (const placement of [
      processAgentPlacement('/tmp/dirtk-validate'),
      processAgentPlacement('/tmp/dirtk-validate', {
        nodeAttestor: { type: 'x509pop', privateKeyPath: '/tmp/node/key.pem', certificatePath: '/tmp/node/cert.pem' },
        workloadAttestor: { type: 'unix', discoverWorkloadPath: false },
      }),
    ]) {
      const result = await validateAgentConfig(serializeSpireConfig(renderAgentConfig(td, placement)));
      expect(result.output).toContain('SPIRE agent configuration file is valid');
    }
  });

  it('server.conf with x509pop node attestation', async () => {
    const [, td] = rendererVariants()[0]!;
    const result = await validateServer(td, processServerPlacement('/tmp/dirtk-validate', { nodeAttestor: { type: 'x509pop', caBundlePath: '/tmp/ca.pem' } }));
    expect(result.output).toContain('SPIRE server configuration file is valid');
  });

  describe('the check can fail', () => {
    it('rejects a server.conf with an unknown key', async () => {
      const [, td] = rendererVariants()[0]!;
      const config = renderServerConfig(td, kubernetesServerPlacement(td));
      (config.server as Record<string, unknown>).trust_domian = 'typo.example';
      const result = await validateServerConfig(serializeSpireConfig(config));
      expect(result.valid).toBe(false);
      expect(result.output).toMatch(/unknown configuration detected/);
    });

    it('rejects an agent.conf without a trust domain', async () => {
      const [, td] = rendererVariants()[0]!;
      const config = renderAgentConfig(td, kubernetesAgentPlacement(td));
      delete (config.agent as Record<string, unknown>).trust_domain;
      expect((await validateAgentConfig(serializeSpireConfig(config))).valid).toBe(false);
    });
  });
});
