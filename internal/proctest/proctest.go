package proctest

import (
	"os"
	"strconv"
	"strings"
)

// Matching returns the pids of the live processes whose command line (its arguments
// joined by spaces) contains every one of parts. A zombie has no command line and never
// matches.
func Matching(parts ...string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(raw) == 0 {
			continue
		}
		cmdline := strings.ReplaceAll(string(raw), "\x00", " ")
		all := true
		for _, p := range parts {
			all = all && strings.Contains(cmdline, p)
		}
		if all {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Kill kills each process of pids, ignoring those already gone: a test's cleanup, so that
// a failed assertion leaves nothing running.
func Kill(pids []int) {
	for _, pid := range pids {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}
