import { trustDomainStack } from './program';

// Pulumi runs an exported function and uses the properties of its result as the stack outputs.
export = trustDomainStack;
