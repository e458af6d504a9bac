// Package tlctest helps tests that start TLC show that they leave nothing behind: no process
// and no file.
package tlctest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Isolate points TMPDIR at a fresh folder for the rest of the test and returns it. The TLC
// scripts put their temporary files below TMPDIR and name them on their processes' command
// lines, so when the test ends (passed or failed) every process whose command line still
// mentions the folder is killed and fails the test, and so does any file left in it. It
// uses t.Setenv, so the test cannot be parallel.
func Isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	t.Cleanup(func() {
		for _, pid := range Mentioning(dir) {
			t.Errorf("process %d was left running", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		left, err := os.ReadDir(dir)
		if err != nil {
			t.Errorf("reading %s: %v", dir, err)
		}
		for _, e := range left {
			t.Errorf("%s was left in %s", e.Name(), dir)
		}
	})
	return dir
}

// Mentioning returns the ids of the processes whose command line contains text, read from
// /proc (none where there is no /proc).
func Mentioning(text string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(text)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
