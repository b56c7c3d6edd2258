/**
 * Runs the stack program against Pulumi's mock monitor and records every resource it registers.
 * Pulumi's runtime state is global, so each run installs fresh mocks and config, and waits for every
 * registration before returning.
 */
import * as pulumi from '@pulumi/pulumi';
import type { MockResourceArgs } from '@pulumi/pulumi/runtime';

/** A secret as the mock monitor receives it. */
export const SECRET_SIG = '4dabf18193072939515e22adb298388d';
export const SECRET_VALUE_SIG = '1b47061264138c4ac30d75fd1eb44270';

export interface StackRun {
  /** The stack outputs, resolved; `unknown` marks an output whose value is unknown (previews). */
  readonly outputs: Record<string, unknown>;
  readonly resources: readonly MockResourceArgs[];
  /** The one registered resource of `type`; fails when there is none or more than one. */
  one(type: string): MockResourceArgs;
  all(type: string): MockResourceArgs[];
}

export interface RunOptions {
  /** Stack config, e.g. `{'dirtk:trustDomain': 'dir.example'}`; objects are passed as JSON like the CLI does. */
  readonly config: Record<string, unknown>;
  /** Outputs of the stacks the program references, by fully qualified stack name. */
  readonly stacks?: Record<string, Record<string, unknown>>;
  /** `data` of the published bundle ConfigMap the program reads. */
  readonly bundleConfigMapData?: Record<string, string>;
  readonly preview?: boolean;
}

export const UNKNOWN = Symbol('unknown');

export async function runStack(options: RunOptions): Promise<StackRun> {
  const resources: MockResourceArgs[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push(args);
        if (args.type === 'pulumi:pulumi:StackReference') {
          const name = args.inputs.name as string;
          return { id: name, state: { name, outputs: options.stacks?.[name] ?? {} } };
        }
        if (args.type === 'kubernetes:core/v1:ConfigMap' && args.id) {
          return { id: args.id, state: { data: options.bundleConfigMapData } };
        }
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    'dirtk',
    'test',
    options.preview ?? false,
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(options.config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)])),
  );

  const { trustDomainStack } = await import('../../stacks/program.js');
  try {
    const outputs = await trustDomainStack();
    const resolved = Object.fromEntries(await Promise.all(Object.entries(outputs).map(async ([key, value]) => [key, await resolve(value)])));
    return {
      outputs: resolved,
      resources,
      all: (type) => resources.filter((r) => r.type === type),
      one(type) {
        const found = resources.filter((r) => r.type === type);
        if (found.length !== 1) throw new Error(`expected one ${type}, registered ${found.length}`);
        return found[0]!;
      },
    };
  } finally {
    // Waits for every outstanding registration, so no run leaks into the next one's mocks.
    await pulumi.runtime.disconnect();
  }
}

function resolve(value: unknown): Promise<unknown> {
  if (!pulumi.Output.isInstance<unknown>(value)) return Promise.resolve(value);
  return new Promise((done) => {
    value.apply(done);
    // apply never runs on an unknown value; the SDK's internal isKnown tells.
    void (value as unknown as { isKnown: Promise<boolean> }).isKnown.then((known) => known || done(UNKNOWN));
  });
}
