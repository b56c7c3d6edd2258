/**
 * The package definition of every proto in this package (the Directory API, health and reflection,
 * with their imports), from the generated descriptor set: what @grpc/reflection indexes and where
 * the reflection service's own definition comes from. No .proto file is read.
 */
import { loadFileDescriptorSetFromBuffer, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { DESCRIPTOR_SET_BASE64 } from '../../gen/descriptor-set';

export function directoryPackageDefinition(options?: Options): PackageDefinition {
  return loadFileDescriptorSetFromBuffer(Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'), options);
}
