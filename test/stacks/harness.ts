/**
 * Runs the stack program against Pulumi's mock monitor and records every resource it registers.
 * Pulumi's runtime state is global, so each run installs fresh mocks and config, and waits for every
 * registration before returning.
 */
import * as pulumi from '@pulumi/pulumi';
import type { RegisterResourceRequest } from '@pulumi/pulumi/proto/resource_pb';
import type { MockResourceArgs, Mocks } from '@pulumi/pulumi/runtime';
import { CallbackServer } from '@pulumi/pulumi/runtime/callbacks';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks';

/** A secret as the mock monitor receives it. */
export const SECRET_SIG = '4dabf18193072939515e22adb298388d';
export const SECRET_VALUE_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** A resource the program registered (or read), with the `transforms` its options declare. */
export interface RegisteredResource extends MockResourceArgs {
  readonly transforms?: pulumi.ResourceTransform[];
}

export interface StackRun {
  /** The stack outputs, resolved; `unknown` marks an output whose value is unknown (previews). */
  readonly outputs: Record<string, unknown>;
  readonly resources: readonly RegisteredResource[];
  /** The one registered resource of `type`; fails when there is none or more than one. */
  one(type: string): RegisteredResource;
  all(type: string): RegisteredResource[];
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

/*
 * Resource transforms in the mocks of @pulumi/pulumi 3.248, the newest release that runs on Node 20.
 * Its `setMocks` marks transforms unsupported (a resource declaring any then fails to register and the
 * run hangs), although its mock monitor answers that it supports them; and `MockResourceArgs` does not
 * carry them. Later releases (which need Node 22) do both: the SDK's callback server reports each
 * transform to a monitor that has `recordTransformCallback`, and the mock monitor hands a resource's
 * transforms to `newResource`. The three pieces below do the same; the transforms still go through the
 * SDK's own callback server, as they do in a real run. Drop them with an SDK whose mocks do this (3.270 does).
 */
// 1. The mock monitor keeps the transforms of each registration, for `newResource` to record.
class TransformsMockMonitor extends MockMonitor {
  private readonly transformsByToken = new Map<string, pulumi.ResourceTransform>();
  private readonly transformsByResource = new Map<string, pulumi.ResourceTransform[]>();

  public recordTransformCallback(token: string, transform: pulumi.ResourceTransform): void {
    this.transformsByToken.set(token, transform);
  }

  public override registerResource(req: RegisterResourceRequest, callback: (err: unknown, response: unknown) => void): Promise<void> {
    const transforms = req.getTransformsList().flatMap((cb) => this.transformsByToken.get(cb.getToken()) ?? []);
    // Type and name identify a resource here: the program names each resource of a type differently.
    this.transformsByResource.set(`${req.getType()}::${req.getName()}`, transforms);
    return super.registerResource(req, callback);
  }

  /** The transforms a registered resource declares; undefined for a read (`get`), which has none. */
  public transformsOf(args: MockResourceArgs): pulumi.ResourceTransform[] | undefined {
    return this.transformsByResource.get(`${args.type}::${args.name}`);
  }
}

// 2. The callback server reports the transform it registers under a token to that monitor, as later releases do.
const registerTransform = CallbackServer.prototype.registerTransform;
CallbackServer.prototype.registerTransform = async function (this: CallbackServer, transform) {
  const callback = await registerTransform.call(this, transform);
  const monitor = pulumi.runtime.getMonitor();
  if (monitor instanceof TransformsMockMonitor) monitor.recordTransformCallback(callback.getToken(), transform);
  return callback;
};

// 3. Feature flags as a real run sets them at startup, by asking the monitor; `setMocks` would pin transforms off.
//    The SDK exports this function at run time but leaves it out of its typings (@internal).
const { awaitFeatureSupport } = pulumi.runtime as typeof pulumi.runtime & { awaitFeatureSupport(): Promise<void> };

async function setMocks(mocks: Mocks, project: string, stack: string, preview: boolean): Promise<TransformsMockMonitor> {
  const monitor = new TransformsMockMonitor(mocks);
  pulumi.runtime.setMockOptions(monitor, project, stack, preview);
  await awaitFeatureSupport();
  return monitor;
}

export async function runStack(options: RunOptions): Promise<StackRun> {
  const resources: RegisteredResource[] = [];
  const monitor = await setMocks(
    {
      newResource(args) {
        resources.push({ ...args, transforms: monitor.transformsOf(args) });
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
