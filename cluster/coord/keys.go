package coord

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

// keys is the key layout of one changefeed:
//
//	/opfsm/<changefeed>/leader/<lease hex>  candidate    (election, leased)
//	/opfsm/<changefeed>/nodes/<node id>     address      (registry, leased)
//	/opfsm/<changefeed>/tables/<table id>   checkpoint   (decimal)
//	/opfsm/<changefeed>/checkpoint          checkpoint   (decimal)
//
// The changefeed id is path-escaped, so a '/' in it cannot reach into another
// changefeed's keys.
type keys struct {
	root, leader, nodes, tables, checkpoint string
}

func newKeys(cf ops.ChangefeedID) keys {
	root := "/opfsm/" + url.PathEscape(string(cf)) + "/"
	return keys{
		root:       root,
		leader:     root + "leader", // concurrency.NewElection appends the '/'
		nodes:      root + "nodes/",
		tables:     root + "tables/",
		checkpoint: root + "checkpoint",
	}
}

func (k keys) node(id ops.NodeID) string  { return k.nodes + string(id) }
func (k keys) table(t ops.TableID) string { return k.tables + formatTableID(t) }
func formatTableID(t ops.TableID) string  { return strconv.FormatInt(int64(t), 10) }
func formatCheckpoint(c uint64) string    { return strconv.FormatUint(c, 10) }
func leaseHex(id clientv3.LeaseID) string { return strconv.FormatInt(int64(id), 16) }
func nodeID(name string, lease clientv3.LeaseID) ops.NodeID {
	return ops.NodeID(name + "@" + leaseHex(lease))
}

const maxNameLen = 64

// checkName accepts a node name: 1 to 64 ASCII letters, digits, '.', '_' or '-'.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty node name")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("node name %.20q... longer than %d bytes", name, maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("node name %q: byte %q at %d is not a letter, digit, '.', '_' or '-'", name, c, i)
		}
	}
	return nil
}

// parseTableID decodes a table key's last segment: a canonical decimal int64 (no sign
// but '-', no leading zeros).
func parseTableID(s string) (ops.TableID, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("table id %q is not a decimal int64", s)
	}
	if strconv.FormatInt(v, 10) != s {
		return 0, fmt.Errorf("table id %q is not in canonical form", s)
	}
	return ops.TableID(v), nil
}

// parseCheckpoint decodes a checkpoint value: a canonical decimal uint64.
func parseCheckpoint(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("checkpoint %q is not a decimal uint64", s)
	}
	if strconv.FormatUint(v, 10) != s {
		return 0, fmt.Errorf("checkpoint %q is not in canonical form", s)
	}
	return v, nil
}

// parseNodeID decodes a node key's last segment: name "@" lease id in lowercase hex,
// as Register writes it.
func parseNodeID(s string) (ops.NodeID, error) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", fmt.Errorf("node id %q has no '@incarnation' suffix", s)
	}
	if err := checkName(s[:at]); err != nil {
		return "", fmt.Errorf("node id %q: %w", s, err)
	}
	inc := s[at+1:]
	v, err := strconv.ParseInt(inc, 16, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 16) != inc {
		return "", fmt.Errorf("node id %q: incarnation %q is not a canonical positive hex lease id", s, inc)
	}
	return ops.NodeID(s), nil
}

// parseAddr decodes a node key's value: any non-empty address.
func parseAddr(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty node address")
	}
	return s, nil
}

// decodeTable decodes one table key and value.
func (k keys) decodeTable(key, value []byte) (ops.TableID, uint64, error) {
	ks := string(key)
	suffix, ok := strings.CutPrefix(ks, k.tables)
	if !ok {
		return 0, 0, &DataError{Key: ks, Reason: "not a table key"}
	}
	t, err := parseTableID(suffix)
	if err != nil {
		return 0, 0, dataErr(ks, err)
	}
	c, err := parseCheckpoint(string(value))
	if err != nil {
		return 0, 0, dataErr(ks, err)
	}
	return t, c, nil
}

// decodeNodeKey decodes one node key.
func (k keys) decodeNodeKey(key []byte) (ops.NodeID, error) {
	ks := string(key)
	suffix, ok := strings.CutPrefix(ks, k.nodes)
	if !ok {
		return "", &DataError{Key: ks, Reason: "not a node key"}
	}
	id, err := parseNodeID(suffix)
	if err != nil {
		return "", dataErr(ks, err)
	}
	return id, nil
}

// decodeNode decodes one node key and value.
func (k keys) decodeNode(key, value []byte) (ops.NodeID, string, error) {
	id, err := k.decodeNodeKey(key)
	if err != nil {
		return "", "", err
	}
	addr, err := parseAddr(string(value))
	if err != nil {
		return "", "", dataErr(string(key), err)
	}
	return id, addr, nil
}
