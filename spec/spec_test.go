package spec_test

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opfsm/internal/tlc"
)

// model is one line of configs.tsv.
type model struct {
	dir, module, config, bug, expect string
}

func models(t *testing.T) []model {
	f, err := os.Open("configs.tsv")
	require.NoError(t, err)
	defer f.Close()
	var out []model
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 5, "configs.tsv line %q", line)
		out = append(out, model{cols[0], cols[1], cols[2], cols[3], cols[4]})
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}

// TestModels runs TLC on every model of configs.tsv: CI configs pass with exactly their
// recorded distinct-state count (BFS with one worker is deterministic), and every
// seeded-bug variant fails on the property it names.
func TestModels(t *testing.T) {
	for _, m := range models(t) {
		name := m.dir + "/" + m.config
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			res, err := tlc.Run(ctx, tlc.Options{Dir: m.dir, Spec: m.module, Config: m.config})
			require.NoError(t, err)
			require.Empty(t, res.Error, res.Output)
			t.Logf("%s: %s", name, res.Summary())
			if m.bug == "-" {
				require.True(t, res.Passed, res.Summary())
				want, err := strconv.ParseInt(m.expect, 10, 64)
				require.NoError(t, err)
				require.Equal(t, want, res.Distinct, "distinct states drifted: update configs.tsv and spec/README.md if the change is intended")
				return
			}
			require.False(t, res.Passed, "seeded bug %s was not caught", m.bug)
			require.Equal(t, m.expect, res.Violated, res.Summary())
			require.Positive(t, res.TraceLength)
		})
	}
}
