package coord

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

func TestKeysEscapeChangefeed(t *testing.T) {
	a, b := newKeys("a"), newKeys("a/tables")
	require.Equal(t, "/opfsm/a/", a.root)
	require.Equal(t, "/opfsm/a%2Ftables/", b.root)
	require.NotContains(t, b.tables, a.tables)
}

func TestParseTableID(t *testing.T) {
	tests := []struct {
		in   string
		want ops.TableID
		ok   bool
	}{
		{"0", 0, true},
		{"42", 42, true},
		{"-3", -3, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"", 0, false},
		{"-0", 0, false},
		{"+1", 0, false},
		{"007", 0, false},
		{"1.5", 0, false},
		{"0x10", 0, false},
		{" 1", 0, false},
		{"9223372036854775808", 0, false},
	}
	for _, tt := range tests {
		got, err := parseTableID(tt.in)
		if !tt.ok {
			require.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestParseNodeID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"n1@1", true},
		{"node-2.a_b@7fffffffffffffff", true},
		{"n1", false},
		{"@1f", false},
		{"n1@", false},
		{"n1@0", false},
		{"n1@01", false},
		{"n1@1F", false},
		{"n1@-1", false},
		{"n1@8000000000000000", false},
		{"n@1@1", false},
		{"n/1@1", false},
	}
	for _, tt := range tests {
		got, err := parseNodeID(tt.in)
		if !tt.ok {
			require.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.Equal(t, ops.NodeID(tt.in), got)
	}
	require.Equal(t, ops.NodeID("n1@2a"), nodeID("n1", clientv3.LeaseID(42)))
}

func FuzzParseTableID(f *testing.F) {
	for _, s := range []string{"0", "-1", "42", "007", "", "-0", "+1", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseTableID(s)
		if err != nil {
			return
		}
		if got := formatTableID(id); got != s {
			t.Fatalf("parseTableID(%q) = %d, formats back as %q", s, id, got)
		}
		k := newKeys(testCF)
		id2, _, err := k.decodeTable([]byte(k.table(id)), []byte("0"))
		if err != nil || id2 != id {
			t.Fatalf("table key of %d decodes to %d, %v", id, id2, err)
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	for _, s := range []string{"0", "1", "18446744073709551615", "18446744073709551616", "-1", "01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseCheckpoint(s)
		if err != nil {
			return
		}
		if got := strconv.FormatUint(v, 10); got != s {
			t.Fatalf("parseCheckpoint(%q) = %d, formats back as %q", s, v, got)
		}
	})
}

func FuzzParseNodeID(f *testing.F) {
	for _, s := range []string{"n1@1", "n1@7fffffffffffffff", "n1", "@1", "n1@0", "n1@01", "a@b@c", "n 1@1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseNodeID(s)
		if err != nil {
			return
		}
		at := -1
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] == '@' {
				at = i
				break
			}
		}
		lease, perr := strconv.ParseInt(s[at+1:], 16, 64)
		if perr != nil || checkName(s[:at]) != nil {
			t.Fatalf("parseNodeID(%q) accepted a bad id", s)
		}
		if got := nodeID(s[:at], clientv3.LeaseID(lease)); got != id {
			t.Fatalf("parseNodeID(%q) = %q, Register would write %q", s, id, got)
		}
	})
}
