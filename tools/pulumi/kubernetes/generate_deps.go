//go:build tools

// The provider's generate step (cmd/pulumi-resource-kubernetes/generate.go upstream) reads schema.json
// through pkg/v3's schema types; this keeps that package in go.sum so the step runs with -mod=readonly.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
