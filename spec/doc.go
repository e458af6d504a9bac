// Package spec holds opfsm's TLA+ modules and TLC configs (one folder per model) and the Go
// tests that run TLC on them. spec/configs.tsv lists every model: the CI configs, which must
// pass with their recorded distinct-state counts, and the seeded-bug variants, each of which
// must violate the property it names. scripts/check-spec.sh reads the same list. The tests
// also check a few of these models with TLC's distributed mode (scripts/tlc-distributed.sh).
//
// The manifest and the models are built into programs (Files): opfsm's checking verbs
// Unpack them into a temporary folder, so that an installed binary checks the spec it was
// built with from any directory.
package spec
