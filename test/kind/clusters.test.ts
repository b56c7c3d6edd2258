import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER_SUBNETS, KIND_NODE_IMAGE, kindClusters } from '../../kind/clusters';
import { planUp } from '../../kind/plan';
import { kindState } from '../../kind/state';
import { EXAMPLE_FEDERATION, resolveTopology } from '../../topology';
import { planOptions, taskContext } from './fixtures';
import { KIND_V1ALPHA4_CLUSTER_SCHEMA } from './kind-v1alpha4-schema';

const validate = new Ajv({ allErrors: true, strict: true }).compile(KIND_V1ALPHA4_CLUSTER_SCHEMA);
const schemaErrors = (config: unknown) => (validate(config) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));

/** The Kind configs exactly as `kind:up` writes them. */
function writtenConfigs(): unknown[] {
  const options = planOptions('kubectl');
  const step = planUp(options).steps.find((candidate) => candidate.title === 'Write the Kind cluster configs');
  if (step?.kind !== 'task') throw new Error('kind:up has no step writing the Kind configs');
  void step.run(taskContext);
  const state = kindState(options.stateDir);
  return ['dir-example', 'dirctl-example'].map((cluster) => parse(readFileSync(state.clusterConfig(cluster), 'utf8')));
}

/** [first, last] address of an IPv4 CIDR, checking that it is one. */
function cidrRange(cidr: string): [number, number] {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) throw new Error(`${cidr} is not an IPv4 CIDR`);
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((octet) => octet > 255) || bits > 32) throw new Error(`${cidr} is not an IPv4 CIDR`);
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const size = 2 ** (32 - bits);
  if (address % size !== 0) throw new Error(`${cidr} has host bits set`);
  return [address, address + size - 1];
}

describe('Kind cluster configs', () => {
  const configs = writtenConfigs();

  it('are valid kind.x-k8s.io/v1alpha4 Clusters, with no field kind v0.32.0 does not know', () => {
    for (const config of configs) expect(schemaErrors(config)).toEqual([]);
  });

  it('are checked by a schema that rejects unknown fields, unknown roles and a wrong apiVersion', () => {
    const [config] = configs as [{ nodes: Record<string, unknown>[] }];
    expect(schemaErrors({ ...config, nodes: [{ ...config.nodes[0], extraPortMapping: [] }] })).toEqual(['/nodes/0 must NOT have additional properties']);
    expect(schemaErrors({ ...config, nodes: [{ ...config.nodes[0], role: 'master' }] })).toEqual(['/nodes/0/role must be equal to one of the allowed values']);
    expect(schemaErrors({ ...config, apiVersion: 'kind.x-k8s.io/v1alpha3' })).toEqual(['/apiVersion must be equal to constant']);
  });

  it('name one cluster per trust domain after its clusterName, on the digest-pinned node image, publishing no host ports', () => {
    expect(configs).toEqual([
      expect.objectContaining({ name: 'dir-example', nodes: [{ role: 'control-plane', image: KIND_NODE_IMAGE }] }),
      expect.objectContaining({ name: 'dirctl-example', nodes: [{ role: 'control-plane', image: KIND_NODE_IMAGE }] }),
    ]);
    expect(KIND_NODE_IMAGE).toMatch(/^kindest\/node:v1\.36\.1@sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(configs)).not.toContain('extraPortMappings');
  });

  it('give every cluster pod and service subnets that overlap no other subnet', () => {
    const subnets = configs.flatMap((config) => {
      const { podSubnet, serviceSubnet } = (config as { networking: { podSubnet: string; serviceSubnet: string } }).networking;
      return [podSubnet, serviceSubnet];
    });
    expect(subnets).toEqual(['10.110.0.0/16', '10.115.0.0/16', '10.220.0.0/16', '10.225.0.0/16']);
    const ranges = subnets.map(cidrRange);
    ranges.forEach(([first, last], i) =>
      ranges.slice(i + 1).forEach(([otherFirst, otherLast], j) => {
        expect(last < otherFirst || otherLast < first, `${subnets[i]} overlaps ${subnets[i + 1 + j]}`).toBe(true);
      }),
    );
  });

  it('refuses a topology with more trust domains than subnet pairs', () => {
    const spec = {
      trustDomains: ['a', 'b', 'c'].map((name) => ({ name: `${name}.example`, clusterName: name })),
    };
    expect(CLUSTER_SUBNETS).toHaveLength(2);
    expect(() => kindClusters(resolveTopology(spec))).toThrow(/3 trust domains but only 2 disjoint subnet pairs/);
    expect(kindClusters(resolveTopology(EXAMPLE_FEDERATION)).map((cluster) => cluster.context)).toEqual(['kind-dir-example', 'kind-dirctl-example']);
  });
});
