package conformance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/sim"
	"github.com/opfsm/opfsm/spec"
)

// TestCIConfigsAreEveryCIConfig: the graph comparison covers the world of every CI config
// of spec/configs.tsv's Failover module, so a new config cannot go uncompared (Snapshots.tla's
// worlds start from snapshots the simulator has no layout for).
func TestCIConfigsAreEveryCIConfig(t *testing.T) {
	models, err := spec.LoadModels("../spec/configs.tsv")
	require.NoError(t, err)
	var want []string
	for _, m := range models {
		if m.Dir == "failover" && m.Module == "Failover" && m.Bug == "" {
			want = append(want, m.Config)
		}
	}
	require.NotEmpty(t, want)
	require.ElementsMatch(t, want, CIConfigs)
}

func TestWorldFromConfig(t *testing.T) {
	w, err := WorldFromConfig("../spec/failover/Failover.cfg")
	require.NoError(t, err)
	require.Equal(t, World{N: 2, Layout: "halves", MaxReq: 3, OpKinds: []string{"move", "split", "merge", "drop"},
		Limits: sim.Limits{MaxEpoch: 2, MaxLoss: 1, MaxDup: 1, MaxOps: 1}}, w)
	dir := t.TempDir()
	for name, text := range map[string]string{
		"seeded bug":     "CONSTANTS\n N = 2\n MaxEpoch = 2\n MaxLoss = 0\n MaxDup = 0\n MaxCrash = 0\n MaxFail = 0\n MaxOps = 1\n OpKinds = {\"move\"}\n Layout = \"halves\"\n MaxReq = 3\n Bug = \"no_resend\"\n",
		"missing N":      "CONSTANTS\n MaxEpoch = 2\n",
		"bad layout":     "CONSTANTS\n N = 2\n MaxEpoch = 2\n MaxLoss = 0\n MaxDup = 0\n MaxCrash = 0\n MaxFail = 0\n MaxOps = 1\n OpKinds = {}\n Layout = \"thirds\"\n MaxReq = 3\n Bug = \"none\"\n",
		"unknown kind":   "CONSTANTS\n N = 2\n MaxEpoch = 2\n MaxLoss = 0\n MaxDup = 0\n MaxCrash = 0\n MaxFail = 0\n MaxOps = 1\n OpKinds = {\"teleport\"}\n Layout = \"whole\"\n MaxReq = 3\n Bug = \"none\"\n",
		"not a natural":  "CONSTANTS\n N = -2\n",
		"no equals":      "CONSTANTS\n N 2\n",
		"too many nodes": "CONSTANT\nN=92999999\nMaxEpoch=1\nMaxLoss=0\nMaxDup=0\nMaxCrash=0\nMaxFail=0\nMaxOps=0\nOpKinds={}\nLayout=\"halves\"\nMaxReq=7\nBug=\"none\"",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "x.cfg")
			require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
			_, err := WorldFromConfig(p)
			require.ErrorIs(t, err, ErrBadConfig)
		})
	}
}

// FuzzWorldFromConfig: no config text makes the reader panic; whatever it accepts is a
// world the simulator can be built for.
func FuzzWorldFromConfig(f *testing.F) {
	data, err := os.ReadFile("../spec/failover/Failover.cfg")
	require.NoError(f, err)
	f.Add(string(data))
	f.Add("CONSTANTS\n N = 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		p := filepath.Join(t.TempDir(), "x.cfg")
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		w, err := WorldFromConfig(p)
		if err != nil {
			require.ErrorIs(t, err, ErrBadConfig)
			return
		}
		_, err = sim.NewCluster(w.Config())
		require.NoError(t, err)
	})
}
