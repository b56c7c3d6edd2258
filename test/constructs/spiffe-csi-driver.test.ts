import { describe, expect, it } from 'vitest';
import { SpiffeCsiDriver } from '../../constructs';
import { CSI } from '../../spire/kubernetes/layout';
import { IMAGES } from '../../spire/versions';
import { expectLockedDownRoot, hostPaths } from './assertions';
import { containers, find, synth, VARIANT_TD, type Manifest } from './fixtures';

function build() {
  const objects = synth((chart) => new SpiffeCsiDriver(chart, 'CsiDriver', { trustDomain: VARIANT_TD }));
  const daemonSet = find(objects, 'DaemonSet', CSI.name);
  const { [CSI.name]: driver, 'node-driver-registrar': registrar } = containers(daemonSet);
  return { objects, daemonSet, pod: daemonSet.spec.template.spec as Manifest, driver: driver!, registrar: registrar! };
}

describe('SpiffeCsiDriver', () => {
  it('matches the snapshot', () => {
    expect(build().objects).toMatchSnapshot();
  });

  it('registers csi.spiffe.io for ephemeral inline volumes only, cluster-scoped', () => {
    const driver = find(build().objects, 'CSIDriver', CSI.driverName);
    expect(driver.metadata).toEqual({ name: CSI.driverName });
    expect(driver.spec).toEqual({ attachRequired: false, podInfoOnMount: true, fsGroupPolicy: 'None', volumeLifecycleModes: ['Ephemeral'] });
  });

  it('runs the driver privileged with Bidirectional propagation into pod volumes, the agent sockets read-only', () => {
    const { driver } = build();
    expect(driver.image).toBe(IMAGES.csiDriver);
    expect(driver.securityContext).toEqual({ privileged: true, runAsUser: 0, readOnlyRootFilesystem: true });
    expect(driver.volumeMounts).toContainEqual({ name: 'mountpoint-dir', mountPath: '/var/lib/kubelet/pods', mountPropagation: 'Bidirectional' });
    expect(driver.volumeMounts).toContainEqual({ name: 'spire-agent-socket-dir', mountPath: '/spire-agent-socket', readOnly: true });
    expect(driver.args).toEqual(expect.arrayContaining(['-workload-api-socket-dir', '/spire-agent-socket', '-plugin-name', CSI.driverName]));
  });

  it('runs the registrar unprivileged, registering the socket the kubelet finds in the plugin dir', () => {
    const { daemonSet, registrar } = build();
    expect(registrar.image).toBe(IMAGES.csiNodeDriverRegistrar);
    expectLockedDownRoot(registrar);
    expect(registrar.args).toContain(`--kubelet-registration-path=${CSI.pluginDir}/csi.sock`);
    expect(hostPaths(daemonSet)['spiffe-csi-socket-dir']).toBe(CSI.pluginDir);
    expect(registrar.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
  });

  it('mounts the agent socket directory of the model and the kubelet directories, and nothing of the host namespaces', () => {
    const { daemonSet, pod } = build();
    expect(hostPaths(daemonSet)).toEqual({
      'spire-agent-socket-dir': VARIANT_TD.agent.socketHostDir,
      'spiffe-csi-socket-dir': CSI.pluginDir,
      'mountpoint-dir': '/var/lib/kubelet/pods',
      'kubelet-plugin-registration-dir': '/var/lib/kubelet/plugins_registry',
    });
    expect(pod).not.toHaveProperty('hostPID');
    expect(pod).not.toHaveProperty('hostNetwork');
    expect(pod.automountServiceAccountToken).toBe(false);
  });
});
