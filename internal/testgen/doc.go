// Package testgen builds the large inputs that benchmarks across packages share, so every
// package measures the same workload.
package testgen
