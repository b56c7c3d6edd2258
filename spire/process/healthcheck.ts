/** Whether `spire-server healthcheck` / `spire-agent healthcheck` passes on the given API socket. */
export async function healthcheckPasses(binary: string, socketPath: string): Promise<boolean> {
  const { execa } = await import('execa');
  const result = await execa(binary, ['healthcheck', '-socketPath', socketPath], { reject: false, timeout: 5_000 });
  return result.exitCode === 0;
}
