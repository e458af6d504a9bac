package tlc

import (
	"context"
	"fmt"
	"math"
	"time"
)

// simulationGrace is how long past its time a simulation may take to stop on its own
// (TLC prints its last progress line and exits) before it is killed.
const simulationGrace = time.Minute

// Simulate runs TLC in simulation mode (-simulate: random behaviours from the initial
// states, every state checked against the config's invariants and action properties) for
// d, rounded up to whole seconds, as a second opinion on a world too large to check
// exhaustively. TLC stops itself when the time is up (its tlc2.TLC.stopAfter property)
// and prints how many states it checked: the result's Checked. Violated, TraceLength and
// Error are set as for Run; Passed is true when TLC stopped or finished without a
// violation or an error. The error is ctx's cause when ctx ends first.
func Simulate(ctx context.Context, opts Options, d time.Duration) (Result, error) {
	secs := max(1, int(math.Ceil(d.Seconds())))
	backstop, stop := context.WithTimeout(ctx, time.Duration(secs)*time.Second+simulationGrace)
	defer stop()
	opts.Args = append([]string{"-simulate"}, opts.Args...)
	opts.JVM = append(opts.JVM, fmt.Sprintf("-Dtlc2.TLC.stopAfter=%d", secs))
	res, err := Run(backstop, opts)
	if err != nil {
		return res, err
	}
	res.Passed = res.ExitCode == 0 && res.Violated == "" && !res.Temporal && !res.Deadlock && res.Error == ""
	return res, nil
}
