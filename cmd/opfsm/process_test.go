// These tests find processes in /proc and point os.UserCacheDir elsewhere with
// XDG_CACHE_HOME: Linux only.

//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/proctest"
	"github.com/opfsm/opfsm/internal/tlc"
	"github.com/opfsm/opfsm/scripts"
)

// buildOpfsm builds the opfsm binary into a temporary folder and returns its path.
func buildOpfsm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "opfsm")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// startOpfsm starts bin with args in dir, with env added to its environment; t's cleanup
// kills it if it still runs. done reports its end.
func startOpfsm(t *testing.T, bin, dir string, env []string, args ...string) (cmd *exec.Cmd, out *bytes.Buffer, done chan error) {
	t.Helper()
	cmd = exec.Command(bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPFSM_TLC_CACHE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	done = make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, out, done
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err != nil {
		require.True(t, errors.As(err, &ee), "%v", err)
		return ee.ExitCode()
	}
	return 0
}

// TestSignalStopsTLC: SIGTERM or SIGINT to opfsm while TLC runs (a supervisor, `timeout`,
// CI, Ctrl-C) kills TLC's JVM and its whole process group, removes every temporary folder
// (the unpacked spec, TLC's metadir and tmpdir, the graph's pipe folder) and exits with
// the signal's code, within seconds although the models take minutes.
func TestSignalStopsTLC(t *testing.T) {
	bin := buildOpfsm(t)
	cases := []struct {
		name string
		args []string
		sig  syscall.Signal
		code int
	}{
		{"conform, SIGTERM", []string{"conform", "--config", "NodeCrash.cfg", "--traces", "0"}, syscall.SIGTERM, 143},
		{"check, SIGTERM", []string{"check", "--manifest", "../../spec/deep.tsv", "--config", "MergeAbort.cfg"}, syscall.SIGTERM, 143},
		{"check, SIGINT", []string{"check", "--manifest", "../../spec/deep.tsv", "--config", "MergeAbort.cfg"}, syscall.SIGINT, 130},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir() // this run's TMPDIR: everything it leaves behind shows here
			t.Cleanup(func() { proctest.Kill(proctest.Matching(tmp)) })
			cmd, out, done := startOpfsm(t, bin, ".", []string{"TMPDIR=" + tmp}, tc.args...)
			jvm := proctest.AwaitStart(t, 5*time.Minute, "java", tmp, "tlc2.TLC")
			group, err := syscall.Getpgid(jvm[0])
			require.NoError(t, err)
			require.NotEqual(t, cmd.Process.Pid, group, "TLC runs in a process group of its own")
			require.Eventually(t, func() bool { // TLC is checking: it has made its states folder
				states, _ := filepath.Glob(filepath.Join(tmp, "opfsm-tlc-[0-9]*", "*"))
				return len(states) > 0
			}, time.Minute, 20*time.Millisecond, "TLC never started checking")

			require.NoError(t, cmd.Process.Signal(tc.sig))
			code := exitCode(t, proctest.AwaitEnd(t, done, 15*time.Second))
			require.ErrorIs(t, syscall.Kill(-group, 0), syscall.ESRCH, "a process of TLC's group survived")
			proctest.RequireClean(t, tmp)
			require.Equal(t, tc.code, code, out.String())
			require.Contains(t, out.String(), "stopped by signal")
		})
	}
}

// TestOutsideTheRepository: an installed opfsm checks the spec built into it from any
// directory: run from an empty folder outside the repository, it writes the built-in
// tlc.sh to the user cache directory, finds TLC's jar cached there, gets the right state
// counts, and leaves nothing in the folder or in TMPDIR.
func TestOutsideTheRepository(t *testing.T) {
	bin := buildOpfsm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jar, err := tlc.Jar(ctx) // the repository's: the test fetches nothing
	require.NoError(t, err)
	cache := t.TempDir()
	jars := filepath.Join(cache, "opfsm", "tlc")
	require.NoError(t, os.MkdirAll(jars, 0o755))
	require.NoError(t, os.Symlink(jar, filepath.Join(jars, filepath.Base(jar))))

	cases := []struct {
		name string
		args []string
		out  string
	}{
		{"check", []string{"check", "--config", "Liveness.cfg"}, "ok   failover/Liveness.cfg: 1522 distinct states"},
		{"conform", []string{"conform", "--config", "Liveness.cfg", "--traces", "2", "--steps", "40"}, "Liveness.cfg: TLC 1522 states, 4323 edges"},
		{"explore", []string{"explore", "--config", "Liveness.cfg"}, "TLC 1522 states"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			work, tmp := t.TempDir(), t.TempDir()
			t.Cleanup(func() { proctest.Kill(proctest.Matching(tmp)) })
			_, out, done := startOpfsm(t, bin, work, []string{"TMPDIR=" + tmp, "XDG_CACHE_HOME=" + cache}, tc.args...)
			require.Zero(t, exitCode(t, proctest.AwaitEnd(t, done, 5*time.Minute)), out.String())
			require.Contains(t, out.String(), tc.out)
			proctest.RequireClean(t, tmp)
			left, err := os.ReadDir(work)
			require.NoError(t, err)
			require.Empty(t, left, "opfsm wrote into the working folder")
		})
	}
	script, err := os.ReadFile(filepath.Join(cache, "opfsm", "tlc.sh"))
	require.NoError(t, err)
	require.Equal(t, scripts.TLC(), string(script))
	require.FileExists(t, filepath.Join(jars, ".lock"), "the script used the user cache's jar")
}
