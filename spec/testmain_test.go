package spec_test

import (
	"os"
	"testing"

	"github.com/opfsm/opfsm/internal/tlc"
)

// TestMain runs this package's TLC searches on the client compiler (tlc.PreferQuick).
func TestMain(m *testing.M) {
	tlc.PreferQuick()
	os.Exit(m.Run())
}
