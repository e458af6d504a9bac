package fsm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/fsm"
)

// moveLike is a small machine shaped like a move operator, used across these tests.
type moveLike struct {
	def                                             *fsm.Definition
	removeOrigin, addDest, abort, success, aborted  fsm.State
	originStopped, destLost, destWorking, statusOld fsm.Trigger
}

func newMoveLike(t testing.TB) moveLike {
	b := fsm.NewBuilder("movelike")
	m := moveLike{}
	m.removeOrigin = b.State("RemoveOrigin")
	m.addDest = b.State("AddDest")
	m.abort = b.State("AbortRemoveOrigin")
	m.success = b.Terminal("DoneSuccess")
	m.aborted = b.Terminal("Aborted")
	m.originStopped = b.Trigger("OriginStopped")
	m.destLost = b.Trigger("DestLost")
	m.destWorking = b.Trigger("DestWorking")
	m.statusOld = b.Trigger("OriginWorking")
	b.Permit(m.removeOrigin, m.originStopped, m.addDest).
		Permit(m.removeOrigin, m.destLost, m.abort).
		Ignore(m.removeOrigin, m.statusOld).
		Permit(m.abort, m.originStopped, m.aborted).
		Permit(m.addDest, m.destWorking, m.success).
		Permit(m.addDest, m.destLost, m.aborted)
	def, err := b.Build()
	require.NoError(t, err)
	m.def = def
	return m
}

func TestFire(t *testing.T) {
	m := newMoveLike(t)
	cases := []struct {
		name    string
		from    fsm.State
		trigger fsm.Trigger
		to      fsm.State
		err     error
	}{
		{"origin stopped moves to add-dest", m.removeOrigin, m.originStopped, m.addDest, nil},
		{"dest lost while removing origin aborts", m.removeOrigin, m.destLost, m.abort, nil},
		{"working origin is ignored", m.removeOrigin, m.statusOld, m.removeOrigin, nil},
		{"abort finishes on origin stopped", m.abort, m.originStopped, m.aborted, nil},
		{"dest working succeeds", m.addDest, m.destWorking, m.success, nil},
		{"dest working before origin stopped is unhandled", m.removeOrigin, m.destWorking, m.removeOrigin, fsm.ErrUnhandledTrigger},
		{"terminal state handles nothing", m.success, m.originStopped, m.success, fsm.ErrUnhandledTrigger},
		{"unknown state", fsm.State(200), m.originStopped, fsm.State(200), fsm.ErrUnknownState},
		{"unknown trigger", m.removeOrigin, fsm.Trigger(99), m.removeOrigin, fsm.ErrUnknownTrigger},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.from
			var rec fsm.Recorder
			tr, err := m.def.Fire(&st, tc.trigger, "d1", &rec)
			require.Equal(t, tc.to, st)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				var fe *fsm.FireError
				require.True(t, errors.As(err, &fe))
				require.Equal(t, "d1", fe.ID)
				require.Empty(t, rec.Records())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.from, tr.From)
			require.Equal(t, tc.to, tr.To)
			next, ok := m.def.Next(tc.from, tc.trigger)
			require.True(t, ok)
			require.Equal(t, tc.to, next)
			if tc.from == tc.to {
				require.Empty(t, rec.Records(), "an ignored trigger is not a transition")
			} else {
				require.Equal(t, []fsm.TransitionRecord{{Machine: "movelike", ID: "d1",
					From: m.def.StateName(tc.from), To: m.def.StateName(tc.to), Trigger: m.def.TriggerName(tc.trigger)}}, rec.Records())
			}
		})
	}
}

// TestStatelessAgrees checks, for every state and trigger, that firing through stateless
// and the Definition's own table give the same answer, so Next, Can, DOT and the fired
// machine never disagree.
func TestStatelessAgrees(t *testing.T) {
	m := newMoveLike(t)
	for s := range m.def.States() {
		for tr := range m.def.Triggers() {
			st := fsm.State(s)
			_, err := m.def.Fire(&st, fsm.Trigger(tr), "x", nil)
			next, ok := m.def.Next(fsm.State(s), fsm.Trigger(tr))
			require.Equal(t, ok, err == nil, "%s/%s", m.def.StateName(fsm.State(s)), m.def.TriggerName(fsm.Trigger(tr)))
			require.Equal(t, next, st)
		}
	}
	g := m.def.StatelessGraph()
	for _, e := range m.def.Edges() { // stateless prints states and triggers as numbers
		require.Contains(t, g, fmt.Sprintf("\t%d -> %d [label=<<TABLE BORDER=\"0\"><TR><TD ALIGN=\"LEFT\">%d<", e.From, e.To, e.Trigger))
	}
}

func TestBuildRejectsBadDefinitions(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *fsm.Builder)
		want  string
	}{
		{"no states", func(b *fsm.Builder) { b.Trigger("t") }, "no states"},
		{"no triggers", func(b *fsm.Builder) { b.State("a") }, "no triggers"},
		{"duplicate state", func(b *fsm.Builder) { b.State("a"); b.State("a"); b.Trigger("t") }, `state "a" declared twice`},
		{"duplicate trigger", func(b *fsm.Builder) { b.State("a"); b.Trigger("t"); b.Trigger("t") }, `trigger "t" declared twice`},
		{"edge from terminal", func(b *fsm.Builder) {
			a, z := b.State("a"), b.Terminal("z")
			t := b.Trigger("t")
			b.Permit(z, t, a)
		}, "from terminal state z"},
		{"two handlers", func(b *fsm.Builder) {
			a, c, z := b.State("a"), b.State("c"), b.Terminal("z")
			t := b.Trigger("t")
			b.Permit(a, t, z).Permit(a, t, c)
		}, "a already handles t"},
		{"self loop", func(b *fsm.Builder) {
			a := b.State("a")
			b.Permit(a, b.Trigger("t"), a)
		}, "use Ignore"},
		{"undeclared", func(b *fsm.Builder) {
			a := b.State("a")
			b.Permit(a, b.Trigger("t"), fsm.State(9))
		}, "undeclared"},
		{"empty name", func(b *fsm.Builder) { b.State(""); b.Trigger("t") }, "empty state name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := fsm.NewBuilder("bad")
			tc.build(b)
			_, err := b.Build()
			require.ErrorIs(t, err, fsm.ErrDefinition)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	require.Panics(t, func() { fsm.NewBuilder("").MustBuild() })
}

func TestTooManyStates(t *testing.T) {
	b := fsm.NewBuilder("big")
	for i := 0; i < fsm.MaxNames+1; i++ {
		b.State("s" + strings.Repeat("x", i))
	}
	b.Trigger("t")
	_, err := b.Build()
	require.ErrorIs(t, err, fsm.ErrDefinition)
}

func TestLookups(t *testing.T) {
	m := newMoveLike(t)
	s, err := m.def.StateByName("AddDest")
	require.NoError(t, err)
	require.Equal(t, m.addDest, s)
	_, err = m.def.StateByName("Nope")
	require.ErrorIs(t, err, fsm.ErrUnknownState)
	_, err = m.def.TriggerByName("Nope")
	require.ErrorIs(t, err, fsm.ErrUnknownTrigger)
	require.Equal(t, "State(77)", m.def.StateName(77))
	require.Equal(t, "Trigger(77)", m.def.TriggerName(77))
	require.True(t, m.def.IsTerminal(m.success))
	require.False(t, m.def.IsTerminal(m.addDest))
	require.False(t, m.def.IsTerminal(200))
	require.Equal(t, m.removeOrigin, m.def.Initial())
	require.Len(t, m.def.IgnoredEdges(), 1)
	require.True(t, m.def.Can(m.removeOrigin, m.statusOld))
	require.False(t, m.def.Can(m.success, m.statusOld))
}

func TestDiagrams(t *testing.T) {
	m := newMoveLike(t)
	dot := m.def.DOT()
	require.Equal(t, dot, m.def.DOT(), "DOT is stable")
	require.Contains(t, dot, `"RemoveOrigin" -> "AddDest" [label="OriginStopped"];`)
	require.Contains(t, dot, `"DoneSuccess" [shape=doublecircle`)
	require.Contains(t, dot, `"__start" -> "RemoveOrigin";`)
	mer := m.def.Mermaid()
	require.Contains(t, mer, "[*] --> RemoveOrigin")
	require.Contains(t, mer, "AddDest --> DoneSuccess: DestWorking")
	require.Contains(t, mer, "Aborted --> [*]")
}
