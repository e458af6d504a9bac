package conformance

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/opfsm/opfsm/internal/tla"
)

// An abstract state is kept as a key, not as its text: the ids of its variables' canonical
// values in a valueTable, four bytes each, in varNames order. The states of a world share
// most of their values, so a million states cost a few tens of bytes each instead of the
// two kilobytes of their text; the text is rebuilt from the table when a mismatch is
// printed. Keys of different tables are compared by translating ids through the values'
// texts (translator).

// varNames are SpecVars sorted: the order of a key's ids and of a state's canonical text
// (tla.State.String sorts by name).
var varNames = func() []string {
	n := slices.Clone(SpecVars)
	slices.Sort(n)
	return n
}()

// valueTable interns canonical value texts.
type valueTable struct {
	ids   map[string]uint32
	texts []string
}

func newValueTable() *valueTable { return &valueTable{ids: map[string]uint32{}} }

// id returns the id of canonical text v, adding it if new.
func (vt *valueTable) id(v []byte) uint32 {
	if id, ok := vt.ids[string(v)]; ok {
		return id
	}
	s := string(v)
	id := uint32(len(vt.texts))
	vt.ids[s] = id
	vt.texts = append(vt.texts, s)
	return id
}

// text rebuilds the canonical text of the state with key k: "/\ var = value" lines in name
// order, as tla.State.String prints it.
func (vt *valueTable) text(k string) string {
	var b strings.Builder
	for i, name := range varNames {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(`/\ `)
		b.WriteString(name)
		b.WriteString(" = ")
		b.WriteString(vt.texts[idAt(k, 4*i)])
	}
	return b.String()
}

// idAt reads the id at byte i of key k.
func idAt(k string, i int) uint32 {
	return uint32(k[i]) | uint32(k[i+1])<<8 | uint32(k[i+2])<<16 | uint32(k[i+3])<<24
}

// keyOfState is the key of a parsed state (as TLC's dump gives it), in vt.
func (vt *valueTable) keyOfState(st tla.State, buf []byte) (string, error) {
	key := make([]byte, 0, 4*len(varNames))
	for _, name := range varNames {
		v, ok := st[name]
		if !ok || v == nil {
			return "", fmt.Errorf("conformance: state lacks %s", name)
		}
		buf = tla.AppendCanonical(buf[:0], v)
		key = binary.LittleEndian.AppendUint32(key, vt.id(buf))
	}
	if len(st) != len(varNames) {
		return "", fmt.Errorf("conformance: state has %d variables, the spec %d", len(st), len(varNames))
	}
	return string(key), nil
}

// translator maps keys of one table to keys of another through the values' texts; a key
// with a value the other table lacks has no translation (no state there has it).
type translator struct {
	from, to *valueTable
	ids      []int64 // from's id -> to's id; -1 absent, -2 not looked up yet
}

func newTranslator(from, to *valueTable) *translator { return &translator{from: from, to: to} }

func (tr *translator) key(k string) (string, bool) {
	if tr.from == tr.to {
		return k, true
	}
	out := make([]byte, len(k))
	for i := 0; i+4 <= len(k); i += 4 {
		id := idAt(k, i)
		for int(id) >= len(tr.ids) {
			tr.ids = append(tr.ids, -2)
		}
		if tr.ids[id] == -2 {
			tr.ids[id] = -1
			if to, ok := tr.to.ids[tr.from.texts[id]]; ok {
				tr.ids[id] = int64(to)
			}
		}
		if tr.ids[id] < 0 {
			return "", false
		}
		binary.LittleEndian.PutUint32(out[i:], uint32(tr.ids[id]))
	}
	return string(out), true
}

// canonicalizer turns the simulator's abstract states into keys, caching each raw value
// text's id: the states of a search share most of their values, so most are parsed once.
// TestCanonicalizerAgrees holds the keys' texts to canonical.
type canonicalizer struct {
	vt  *valueTable
	raw map[string]uint32 // raw value text -> id in vt
}

func newCanonicalizer(vt *valueTable) *canonicalizer {
	return &canonicalizer{vt: vt, raw: map[string]uint32{}}
}

// state returns the key of abstract state s.
func (cz *canonicalizer) state(s SpecState) (string, error) {
	key := make([]byte, 0, 4*len(varNames))
	for _, k := range varNames {
		raw, ok := s[k]
		if !ok {
			return "", fmt.Errorf("conformance: abstract state lacks %s", k)
		}
		id, ok := cz.raw[raw]
		if !ok {
			v, err := tla.ParseValue(raw)
			if err != nil {
				return "", fmt.Errorf("conformance: abstract state's %s does not parse: %w", k, err)
			}
			id = cz.vt.id(tla.AppendCanonical(nil, v))
			cz.raw[raw] = id
		}
		key = binary.LittleEndian.AppendUint32(key, id)
	}
	return string(key), nil
}
