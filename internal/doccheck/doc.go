// Package doccheck finds exported Go names without a doc comment and packages without a
// doc.go, so "every exported name is documented" is a check that can fail in CI rather
// than a promise.
package doccheck
