package tlc

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		out  string
		want Result
	}{
		{
			name: "passed",
			out: "Model checking completed. No error has been found.\n" +
				"8 states generated, 7 distinct states found, 0 states left on queue.\n" +
				"The depth of the complete state graph search is 3.\n",
			want: Result{Generated: 8, Distinct: 7, Depth: 3, Passed: true},
		},
		{
			name: "a distributed run again after TLC's late-worker failure: only the second counts",
			out: "Worker: rmi://localhost:0/0 Sent: 3 Rcvd: 2\n" +
				"Error: TLC threw an unexpected exception.\nThe exception was a java.lang.NullPointerException\n" +
				"tlc-distributed: the server stopped without a verdict\n" +
				"tlc-distributed: running again with one worker: the server failed on a worker that registered after the model was done\n" +
				"Model checking completed. No error has been found.\n" +
				"4 states generated, 3 distinct states found, 0 states left on queue.\n",
			want: Result{Generated: 4, Distinct: 3, Passed: true},
		},
		{
			name: "simulation progress",
			out: "Running Random Simulation with seed 1 with 2 workers.\n" +
				"Progress: 1146199 states checked.\nProgress: 2390044 states checked.\n",
			want: Result{Checked: 2390044},
		},
		{
			name: "simulation finished",
			out:  "The number of states generated: 51234\nSimulation using seed 1 and aril 0\n",
			want: Result{Checked: 51234},
		},
		{
			name: "invariant",
			out: "Error: Invariant NoDuplicateActiveDispatcher is violated.\n" +
				"Error: The behavior up to this point is:\nState 1: <Initial predicate>\nx = 0\n\n" +
				"State 2: <Next line 6>\nx = 1\n\n" +
				"5 states generated, 5 distinct states found, 2 states left on queue.\n",
			want: Result{Generated: 5, Distinct: 5, Left: 2, Violated: "NoDuplicateActiveDispatcher", TraceLength: 2},
		},
		{
			name: "action property",
			out:  "Error: Action property Grows is violated.\nError: The behavior up to this point is:\nState 1: <Initial predicate>\n",
			want: Result{Violated: "Grows", TraceLength: 1},
		},
		{
			name: "deadlock",
			out:  "Error: Deadlock reached.\nError: The behavior up to this point is:\nState 1: <Initial predicate>\nState 2: <A>\n",
			want: Result{Deadlock: true, TraceLength: 2},
		},
		{
			name: "distributed action property",
			out:  "Error: The behavior up to this point is:\nState 1: <Initial predicate>\nState 2: <A>\nError: Implied-action Grows is violated.\n",
			want: Result{Violated: "Grows", TraceLength: 2},
		},
		{
			name: "distributed deadlock",
			out:  "Error: The behavior up to this point is:\nState 1: <Initial predicate>\nState 2: <A>\nError: deadlock reached.\n",
			want: Result{Deadlock: true, TraceLength: 2},
		},
		{
			name: "temporal lasso",
			out: "Error: Temporal properties were violated.\n\nError: The following behavior constitutes a counter-example:\n\n" +
				"State 1: <Initial predicate>\nState 2: <Next>\nBack to state 1: <Next>\n",
			want: Result{Temporal: true, TraceLength: 2},
		},
		{
			name: "parse error",
			out:  "***Parse Error***\nEncountered \"====\" at line 3\n\nStarting...\nError: Parsing or semantic analysis failed.\n",
			want: Result{Error: "***Parse Error*** Encountered \"====\" at line 3 Parsing or semantic analysis failed."},
		},
		{
			name: "witnesses",
			out: "<<\"witness\", \"MergeResolves\">>\n<<\"witness\", \"Converge\">>\n<<\"witness\", \"MergeResolves\">>\n" +
				"<<\"witness\", \"\">>\nModel checking completed. No error has been found.\n",
			want: Result{Passed: true, Witnessed: []string{"Converge", "MergeResolves"}},
		},
		{name: "empty", out: "", want: Result{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.out)
			got.Output = ""
			require.Equal(t, tc.want, got)
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Error: Invariant X is violated.\nState 1: <Init>\n")
	f.Add("1 states generated, 1 distinct states found, 0 states left on queue.\n")
	f.Add("State 99999999999999999999: x\n")
	f.Fuzz(func(t *testing.T, out string) {
		r := Parse(out)
		require.False(t, r.Passed && (r.Violated != "" || r.Deadlock || r.Error != ""))
	})
}

func TestTemporalName(t *testing.T) {
	dir := t.TempDir()
	one := dir + "/one.cfg"
	two := dir + "/two.cfg"
	require.NoError(t, os.WriteFile(one, []byte("SPECIFICATION Spec\nPROPERTY Live\nINVARIANT TypeOK\n"), 0o644))
	require.NoError(t, os.WriteFile(two, []byte("PROPERTIES A B\n"), 0o644))
	require.Equal(t, "Live", temporalName(one))
	require.Equal(t, "temporal", temporalName(two))
	require.Equal(t, "temporal", temporalName(dir+"/missing.cfg"))
}

func TestConfigNames(t *testing.T) {
	cfg := "\\* PROPERTIES Commented\nCONSTANTS\n    N = 2\nSPECIFICATION FairSpec\n" +
		"INVARIANT Witnesses \\* INVARIANT Not\nPROPERTIES A\n  B C\nCHECK_DEADLOCK FALSE\nPROPERTY D\n"
	cases := []struct {
		keywords []string
		want     []string
	}{
		{[]string{"PROPERTY", "PROPERTIES"}, []string{"A", "B", "C", "D"}},
		{[]string{"INVARIANT", "INVARIANTS"}, []string{"Witnesses"}},
		{[]string{"SPECIFICATION"}, []string{"FairSpec"}},
		{[]string{"CONSTRAINT"}, nil},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, ConfigNames(cfg, tc.keywords...), tc.keywords)
	}
}

// FuzzConfigNames: any config text gives names without a panic, none of them a keyword or
// empty, none from a comment.
func FuzzConfigNames(f *testing.F) {
	f.Add("INVARIANTS A B \\* C\nPROPERTY D\n", "INVARIANTS")
	f.Add("\\*\n\n", "PROPERTY")
	f.Fuzz(func(t *testing.T, cfg, keyword string) {
		for _, n := range ConfigNames(cfg, keyword, "PROPERTIES") {
			require.NotEmpty(t, n)
			require.NotContains(t, cfgKeywords, n)
			require.NotContains(t, n, `\*`)
		}
	})
}

// TestJavaOptions: the run's temporary folder first, then the caller's JVM options, the
// client compiler for a quick run, and the user's OPFSM_TLC_JAVA_OPTS last, so they win.
func TestJavaOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		user string
		want string
	}{
		{name: "plain", want: "-Djava.io.tmpdir=/t"},
		{name: "quick", opts: Options{Quick: true}, want: "-Djava.io.tmpdir=/t -XX:TieredStopAtLevel=1"},
		{name: "quick, user wins", opts: Options{JVM: []string{"-Xmx1g"}, Quick: true}, user: "-XX:TieredStopAtLevel=4",
			want: "-Djava.io.tmpdir=/t -Xmx1g -XX:TieredStopAtLevel=1 -XX:TieredStopAtLevel=4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, javaOptions(tc.opts, "/t", tc.user))
		})
	}
}

// TestPreferQuick: the client compiler goes first in the process's JavaOptsEnv, before
// what a user set there, which therefore still wins.
func TestPreferQuick(t *testing.T) {
	for _, tc := range []struct{ user, want string }{
		{"", QuickJVM},
		{"-Xmx1g -XX:TieredStopAtLevel=4", QuickJVM + " -Xmx1g -XX:TieredStopAtLevel=4"},
	} {
		t.Setenv(JavaOptsEnv, tc.user)
		PreferQuick()
		require.Equal(t, tc.want, os.Getenv(JavaOptsEnv))
		require.Equal(t, "-Djava.io.tmpdir=/t "+tc.want, javaOptions(Options{}, "/t", os.Getenv(JavaOptsEnv)))
	}
}
