/**
 * The shape of a topology spec file, as a JSON Type Definition (RFC 8927). ajv checks the type against
 * `TopologySpec` at compile time, so the schema cannot drift from the interfaces; a file is checked with it
 * before `resolveTopology` reads it, and unknown members (a misspelt key) are problems too.
 */
import type { JTDSchemaType } from 'ajv/dist/jtd';
import type { BundleEndpointProfile, LogLevel, TopologySpec } from './spec';

const logLevel: JTDSchemaType<LogLevel> = { enum: ['DEBUG', 'INFO', 'WARN', 'ERROR'] };
const profile: JTDSchemaType<BundleEndpointProfile> = { enum: ['https_spiffe', 'https_web'] };

export const TOPOLOGY_SPEC_SCHEMA: JTDSchemaType<TopologySpec> = {
  properties: {
    trustDomains: {
      elements: {
        properties: { name: { type: 'string' }, clusterName: { type: 'string' } },
        optionalProperties: {
          namespaces: { optionalProperties: { spire: { type: 'string' }, agent: { type: 'string' }, directory: { type: 'string' } } },
          server: {
            optionalProperties: {
              replicas: { type: 'int32' },
              caKeyType: { enum: ['rsa-2048', 'rsa-4096', 'ec-p256', 'ec-p384'] },
              caTtl: { type: 'string' },
              x509SvidTtl: { type: 'string' },
              jwtSvidTtl: { type: 'string' },
              datastore: {
                discriminator: 'type',
                mapping: { sqlite: { properties: {} }, postgres: { properties: { connectionStringSecret: { type: 'string' } } } },
              },
              keyManager: { enum: ['disk', 'memory'] },
              upstreamAuthority: { properties: { type: { enum: ['disk'] } }, optionalProperties: { secretName: { type: 'string' } } },
              attestedClusters: { elements: { type: 'string' } },
              logLevel,
            },
          },
          agent: {
            optionalProperties: { socket: { enum: ['hostPath', 'csi'] }, socketHostDir: { type: 'string' }, clusterName: { type: 'string' }, logLevel },
          },
          controllerManager: { optionalProperties: { className: { type: 'string' }, clusterName: { type: 'string' }, entryIdPrefix: { type: 'string' } } },
          bundleEndpoint: {
            optionalProperties: {
              port: { type: 'int32' },
              profile,
              servingCertSecret: { type: 'string' },
              refreshHint: { type: 'string' },
              serviceType: { enum: ['NodePort', 'LoadBalancer'] },
              nodePort: { type: 'int32' },
              url: { type: 'string' },
            },
          },
          federatesWith: {
            elements: {
              properties: { trustDomain: { type: 'string' } },
              optionalProperties: { bundleEndpointUrl: { type: 'string' }, profile, endpointSpiffeId: { type: 'string' }, trustDomainBundle: { type: 'string' } },
            },
          },
          apiserver: {
            optionalProperties: {
              serviceAccount: { type: 'string' },
              store: { enum: ['filesystem', 'registry'] },
              replicas: { type: 'int32' },
              port: { type: 'int32' },
              serviceType: { enum: ['ClusterIP', 'NodePort'] },
              nodePort: { type: 'int32' },
              image: { type: 'string' },
              imageId: { type: 'string' },
              registry: {
                properties: {
                  externalHost: { type: 'string' },
                  trustedKeys: {
                    elements: { properties: { kty: { enum: ['EC'] }, crv: { enum: ['P-256'] }, x: { type: 'string' }, y: { type: 'string' } } },
                  },
                },
                optionalProperties: { nodePort: { type: 'int32' }, tokenNodePort: { type: 'int32' }, tokenKeySecret: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  },
};
