// An OCI distribution-spec repository name: lowercase path components separated by "/".
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function isRepositoryName(name: string): boolean {
  return REPOSITORY_NAME.test(name);
}
