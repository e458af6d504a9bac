package recovery

import (
	"fmt"
	"testing"

	"github.com/opfsm/opfsm/internal/testgen"
)

// BenchmarkRecover recovers 10^4, 10^5 and 10^6 spans over 100 nodes, a tenth of them
// under an in-flight operator (goal at 10^6: <= 1 s and <= 1 GiB on one core).
func BenchmarkRecover(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		snap := testgen.BigSnapshot(n)
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := Recover(snap)
				if err != nil || len(res.Rejected) > 0 {
					b.Fatal(err, res.Rejected)
				}
				if _, opsN := res.Controller.Len(); opsN < n/10 {
					b.Fatalf("only %d operators restored", opsN)
				}
			}
		})
	}
}
