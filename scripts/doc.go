// Package scripts holds the project's shell scripts and builds tlc.sh into Go programs, so
// that an installed opfsm runs TLC from any directory: outside the repository package
// internal/tlc writes TLC() to the user cache directory and runs it from there.
package scripts
