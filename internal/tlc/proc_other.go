//go:build !unix

package tlc

import "os/exec"

// ownGroup: no process groups here; cancelling the context kills the script's process
// (exec.CommandContext's default), which runs java in its place (tlc.sh execs java).
func ownGroup(*exec.Cmd) {}

// askToStop: no process groups or SIGTERM here; cancelling the context kills the script's
// process (exec.CommandContext's default).
func askToStop(*exec.Cmd) {}
