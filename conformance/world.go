package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
)

// CIConfigs are the spec/failover configs whose worlds the graph comparison covers in CI:
// every CI config of spec/configs.tsv. DeepConfigs are compared by make check-deep.
var CIConfigs = []string{"Liveness.cfg", "LivenessMerge.cfg", "Failover.cfg", "FailoverSplit.cfg", "MergeAbortShort.cfg",
	"ThreeEpochs.cfg", "TwoNodeCrash.cfg", "TwoNodeCrashSplit.cfg", "LivenessNoLoss.cfg", "LivenessMergeOneEpoch.cfg",
	"LivenessDrop.cfg", "LivenessCrash.cfg", "LivenessDup.cfg", "LivenessSplit.cfg",
	"MergeFailShort.cfg", "LivenessMergeFail.cfg"}

// DeepConfigs are the worlds of spec/deep.tsv the simulator can build, compared by make
// check-deep: NodeCrash.cfg (3 nodes, 282,749 states) and MergeAbort.cfg (702,073) take
// 2-5 and 4-10 minutes on a two-core machine, most of it TLC writing its dump;
// FailoverSplitDup.cfg (80,028) about a minute; LivenessMergeDrop.cfg's world (4,918 under
// StreamBound) seconds, but its liveness check is among make test's longest TLC runs.
var DeepConfigs = []string{"NodeCrash.cfg", "MergeAbort.cfg", "FailoverSplitDup.cfg", "LivenessMergeDrop.cfg"}

// ErrBadConfig: a TLC config whose CONSTANTS do not describe a spec world (a missing or
// unknown constant, a malformed value, a seeded bug).
var ErrBadConfig = errors.New("not a spec/failover world")

// WorldFromConfig reads the CONSTANTS of a spec/failover TLC config (.cfg) as a World. The
// config must name every constant of Schema.tla, with Bug = "none": the conformance checks
// compare the simulator with the correct spec.
func WorldFromConfig(path string) (World, error) {
	f, err := os.Open(path)
	if err != nil {
		return World{}, err
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	line := 0
	in := false
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if i := strings.Index(text, `\*`); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" {
			continue
		}
		first := strings.Fields(text)[0]
		if first == "CONSTANTS" || first == "CONSTANT" {
			in = true
			continue
		}
		if isKeyword(first) {
			in = false // INIT, NEXT, INVARIANTS, CONSTRAINT, ...
			continue
		}
		if !in {
			continue
		}
		name, val, ok := strings.Cut(text, "=")
		if !ok {
			return World{}, fmt.Errorf("conformance: %s:%d: %w: want NAME = VALUE in CONSTANTS", path, line, ErrBadConfig)
		}
		vals[strings.TrimSpace(name)] = strings.TrimSpace(val)
	}
	if err := sc.Err(); err != nil {
		return World{}, err
	}
	bad := func(format string, args ...any) (World, error) {
		return World{}, fmt.Errorf("conformance: %s: %w: %s", path, ErrBadConfig, fmt.Sprintf(format, args...))
	}
	num := func(name string) (int, error) {
		v, ok := vals[name]
		if !ok {
			return 0, fmt.Errorf("constant %s missing", name)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("constant %s = %q is not a natural", name, v)
		}
		return n, nil
	}
	var w World
	var n [8]int
	for i, name := range []string{"N", "MaxEpoch", "MaxLoss", "MaxDup", "MaxCrash", "MaxOps", "MaxReq", "MaxFail"} {
		if n[i], err = num(name); err != nil {
			return bad("%v", err)
		}
	}
	w.N, w.MaxReq, w.Limits.MaxFail = n[0], n[6], n[7]
	w.Limits.MaxEpoch, w.Limits.MaxLoss, w.Limits.MaxDup, w.Limits.MaxCrash, w.Limits.MaxOps = ops.Epoch(n[1]), n[2], n[3], n[4], n[5]
	if w.N < 1 || w.Limits.MaxEpoch < 1 {
		return bad("N and MaxEpoch must be at least 1")
	}
	if w.N > MaxWorldNodes {
		return bad("N = %d: a world has at most %d nodes", w.N, MaxWorldNodes)
	}
	layout, err := strconv.Unquote(vals["Layout"])
	if err != nil || (layout != "halves" && layout != "whole") {
		return bad("Layout = %s: want \"halves\" or \"whole\"", vals["Layout"])
	}
	w.Layout = layout
	if vals["Bug"] != `"none"` {
		return bad("Bug = %s: the conformance checks compare with the correct spec (\"none\")", vals["Bug"])
	}
	set := strings.TrimSpace(vals["OpKinds"])
	if !strings.HasPrefix(set, "{") || !strings.HasSuffix(set, "}") {
		return bad("OpKinds = %q: want a set of strings", set)
	}
	for _, k := range strings.Split(strings.Trim(set, "{}"), ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		kind, err := strconv.Unquote(k)
		if err != nil || (kind != "move" && kind != "split" && kind != "merge" && kind != "drop") {
			return bad("OpKinds element %s", k)
		}
		w.OpKinds = append(w.OpKinds, kind)
	}
	return w, nil
}

// MaxWorldNodes is the most nodes a world may have: far more than any exhaustive check
// can explore, and few enough that building its cluster stays cheap.
const MaxWorldNodes = 64

// isKeyword: a TLC config section keyword (all capitals and underscores).
func isKeyword(w string) bool {
	return w != "" && strings.Trim(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" && len(w) > 1
}
