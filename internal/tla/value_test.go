package tla

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func mustFunc(t testing.TB, pairs ...Pair) Value {
	t.Helper()
	v, err := NewFunc(pairs...)
	require.NoError(t, err)
	return v
}

func mustRecord(t testing.TB, fields ...Field) Value {
	t.Helper()
	v, err := NewRecord(fields...)
	require.NoError(t, err)
	return v
}

// tlcState is a state TLC 2.18 printed (-dump) for a test spec whose variables hold one
// value of each shape; the comments say what the spec assigned.
const tlcState = `/\ a = << >>
/\ b = (2 :> 20 @@ 3 :> 30)
/\ c = (0 :> 0 @@ 1 :> 1)
/\ d = <<-1, -2, -3>>
/\ e = ("c" :> "c" @@ "a b" :> "a b")
/\ f = <<"q\"u", "b\\s", "n\nl", "t\tt", "">>
/\ g = {mv, mw}
/\ h = {{}, {1}, {1, 2}, 1..3}
/\ i = [f1 |-> TRUE, f2 |-> {FALSE}, f3 |-> <<mv>>]
/\ j = {{}, {1}, {2}, {1, 2}}
/\ k = {<<"x", "x">>}
/\ l = {<<1, 3>>, <<2, 3>>}
/\ m = {1, 5}
/\ n = {[f1 |-> 1], [f1 |-> 2]}
/\ o = (<<3>> :> {<<3>>} @@ <<1, 2>> :> {<<1, 2>>})
/\ p = (mv :> 1 @@ mw :> 1)
/\ q = <<2, 1>>
/\ r = [m |-> "m", zz |-> "zz", aa |-> "aa"]
/\ s = (0 :> 0 @@ 1 :> 1 @@ 2 :> 2)
/\ t = ([a |-> 1] :> 1 @@ [a |-> 2] :> 1)
/\ u = -2147483647..-2147483646
`

func TestParseStateTLCShapes(t *testing.T) {
	st, err := ParseState(tlcState)
	require.NoError(t, err)
	want := map[string]string{
		"a": `<<>>`,                                   // [x \in {} |-> 1]
		"b": `(2 :> 20 @@ 3 :> 30)`,                   // [x \in {2, 3} |-> x * 10]
		"c": `(0 :> 0 @@ 1 :> 1)`,                     // [x \in {0, 1} |-> x]
		"d": `<<-1, -2, -3>>`,                         // [x \in 1..3 |-> -x]
		"e": `("a b" :> "a b" @@ "c" :> "c")`,         // strings that are not identifiers
		"f": `<<"q\"u", "b\\s", "n\nl", "t\tt", "">>`, // escapes
		"g": `{mv, mw}`,                               // model values
		"h": `{{}, {1}, {1, 2}, {1, 2, 3}}`,           // {{}, {1}, 1..3, 3..2, {2, 1}}
		"i": `[f1 |-> TRUE, f2 |-> {FALSE}, f3 |-> <<mv>>]`,
		"j": `{{}, {1}, {1, 2}, {2}}`,   // SUBSET {1, 2}
		"k": `{<<"x", "x">>}`,           // [{1, 2} -> {"x"}]
		"l": `{<<1, 3>>, <<2, 3>>}`,     // {1, 2} \X {3}
		"m": `{1, 5}`,                   // ({1, 2} \cup {5}) \ {2}
		"n": `{[f1 |-> 1], [f1 |-> 2]}`, // [f1 : {1, 2}]
		"o": `(<<1, 2>> :> {<<1, 2>>} @@ <<3>> :> {<<3>>})`,
		"p": `(mv :> 1 @@ mw :> 1)`,
		"q": `<<2, 1>>`,                              // (2 :> 1 @@ 1 :> 2)
		"r": `[aa |-> "aa", m |-> "m", zz |-> "zz"]`, // [x \in {"zz", "aa", "m"} |-> x]
		"s": `(0 :> 0 @@ 1 :> 1 @@ 2 :> 2)`,          // [x \in 0..2 |-> x]
		"t": `([a |-> 1] :> 1 @@ [a |-> 2] :> 1)`,
		"u": `{-2147483647, -2147483646}`,
	}
	require.Len(t, st, len(want))
	for name, s := range want {
		require.Equal(t, s, st[name].String(), name)
		back, err := ParseValue(s)
		require.NoError(t, err, name)
		require.True(t, Equal(st[name], back), name)
	}
	require.Equal(t, KindSeq, st["a"].Kind())
	require.Equal(t, KindFunc, st["b"].Kind())
	require.Equal(t, KindFunc, st["e"].Kind())
	require.Equal(t, KindRecord, st["r"].Kind())
	require.Equal(t, Str("q\"u"), st["f"].(Seq).At(0))
	require.Equal(t, Str("n\nl"), st["f"].(Seq).At(2))

	again, err := ParseState(st.String())
	require.NoError(t, err)
	require.True(t, st.Equal(again))
	require.Equal(t, st.String(), again.String())
}

func TestParseValue(t *testing.T) {
	rec := mustRecord(t, Field{"b", Str("x")}, Field{"a", Int(1)})
	tests := []struct {
		in        string
		want      Value
		canonical string
	}{
		{"0", Int(0), "0"},
		{"-17", Int(-17), "-17"},
		{"9223372036854775807", Int(9223372036854775807), "9223372036854775807"},
		{"TRUE", Bool(true), "TRUE"},
		{" FALSE\n", Bool(false), "FALSE"},
		{`""`, Str(""), `""`},
		{`"a\"b\\c\nd\te\rf\fg"`, Str("a\"b\\c\nd\te\rf\fg"), `"a\"b\\c\nd\te\rf\fg"`},
		{`"héllo"`, Str("héllo"), `"héllo"`},
		{"mv", ModelValue("mv"), "mv"},
		{"_x1", ModelValue("_x1"), "_x1"},
		{"{}", NewSet(), "{}"},
		{"{ }", NewSet(), "{}"},
		{"{3, 1, 2, 1}", NewSet(Int(1), Int(2), Int(3)), "{1, 2, 3}"},
		{"1..3", NewSet(Int(1), Int(2), Int(3)), "{1, 2, 3}"},
		{"1 .. 1", NewSet(Int(1)), "{1}"},
		{"3..2", NewSet(), "{}"},
		{"-1..0", NewSet(Int(-1), Int(0)), "{-1, 0}"},
		{"<<>>", NewSeq(), "<<>>"},
		{"<< >>", NewSeq(), "<<>>"},
		{"<<<<>>>>", NewSeq(NewSeq()), "<<<<>>>>"},
		{"<<<<<<>>, <<>>>>>>", NewSeq(NewSeq(NewSeq(), NewSeq())), "<<<<<<>>, <<>>>>>>"},
		{`<<1, "a", <<TRUE>>>>`, NewSeq(Int(1), Str("a"), NewSeq(Bool(true))), `<<1, "a", <<TRUE>>>>`},
		{`[b |-> "x", a |-> 1]`, rec, `[a |-> 1, b |-> "x"]`},
		{"[ m |-> [epoch |-> 0],\n  a |-> 1 ]", mustRecord(t, Field{"m", mustRecord(t, Field{"epoch", Int(0)})}, Field{"a", Int(1)}), "[a |-> 1, m |-> [epoch |-> 0]]"},
		{"(2 :> 20 @@ 3 :> 30)", mustFunc(t, Pair{Int(3), Int(30)}, Pair{Int(2), Int(20)}), "(2 :> 20 @@ 3 :> 30)"},
		{"(1 :> 1)", NewSeq(Int(1)), "<<1>>"},
		{`(2 :> "b" @@ 1 :> "a")`, NewSeq(Str("a"), Str("b")), `<<"a", "b">>`},
		{`("b" :> 2 @@ "a" :> 1)`, mustRecord(t, Field{"a", Int(1)}, Field{"b", Int(2)}), `[a |-> 1, b |-> 2]`},
		{`("TRUE" :> 1)`, mustFunc(t, Pair{Str("TRUE"), Int(1)}), `("TRUE" :> 1)`},
		{`(mv :> {} @@ 0 :> TRUE)`, mustFunc(t, Pair{Int(0), Bool(true)}, Pair{ModelValue("mv"), NewSet()}), `(0 :> TRUE @@ mv :> {})`},
		{"({1} :> 1 @@ {} :> 0)", mustFunc(t, Pair{NewSet(), Int(0)}, Pair{NewSet(Int(1)), Int(1)}), "({} :> 0 @@ {1} :> 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := ParseValue(tt.in)
			require.NoError(t, err)
			require.True(t, Equal(tt.want, v), "got %s, want %s", v, tt.want)
			require.Equal(t, tt.canonical, v.String())
			require.Equal(t, tt.canonical, tt.want.String())
			back, err := ParseValue(v.String())
			require.NoError(t, err)
			require.True(t, Equal(v, back))
			require.Equal(t, v.Kind(), back.Kind())
		})
	}
}

func TestOrderIndependence(t *testing.T) {
	same := [][]string{
		{"{1, 2, 3}", "{3, 1, 2}", "{2, 3, 1, 3}", "1..3"},
		{"{}", "3..2", "{ }"},
		{`[a |-> 1, b |-> "x"]`, `[b |-> "x", a |-> 1]`, `("a" :> 1 @@ "b" :> "x")`, `("b" :> "x" @@ "a" :> 1)`},
		{"<<>>", "<< >>"},
		{`<<"a", "b">>`, `(1 :> "a" @@ 2 :> "b")`, `(2 :> "b" @@ 1 :> "a")`},
		{"(2 :> 20 @@ 3 :> 30)", "(3 :> 30 @@ 2 :> 20)"},
		{"{[a |-> 1, b |-> {2, 1}], [a |-> 2, b |-> {}]}", "{[b |-> {}, a |-> 2], [b |-> {1, 2}, a |-> 1]}"},
		{"{{1, 2}, {2}, {}}", "{{}, {2}, {2, 1}, {}}"},
		{"{<<1, 2>>, <<3>>}", "{<<3>>, (2 :> 2 @@ 1 :> 1)}"},
		{"({1, 2} :> a @@ {3} :> b)", "({3} :> b @@ {2, 1} :> a)"},
	}
	for _, group := range same {
		first, err := ParseValue(group[0])
		require.NoError(t, err)
		for _, s := range group[1:] {
			v, err := ParseValue(s)
			require.NoError(t, err, s)
			require.True(t, Equal(first, v), "%s != %s", group[0], s)
			require.Equal(t, first.String(), v.String())
		}
	}
	different := [][2]string{
		{"{1, 2}", "{1, 2, 3}"},
		{"<<1, 2>>", "<<2, 1>>"},
		{"<<1>>", "{1}"},
		{"<<>>", "{}"},
		{`"a"`, "a"},
		{"1", `"1"`},
		{"[a |-> 1]", "[a |-> 2]"},
		{"[a |-> 1]", "[b |-> 1]"},
		{"(0 :> 1)", "<<1>>"},
		{"TRUE", "FALSE"},
	}
	for _, pair := range different {
		a, err := ParseValue(pair[0])
		require.NoError(t, err)
		b, err := ParseValue(pair[1])
		require.NoError(t, err)
		require.False(t, Equal(a, b), "%s == %s", pair[0], pair[1])
		require.Equal(t, -Compare(a, b), Compare(b, a))
	}
}

func TestCompareIsATotalOrder(t *testing.T) {
	var vals []Value
	for _, s := range []string{
		// Kinds first (booleans, integers, strings, model values, sets, functions), then
		// element by element; functions pair by pair, whatever their printed shape.
		"FALSE", "TRUE", "-3", "0", "7", `""`, `"a"`, `"b"`, "mv", "mw", "{}", "{1}", "{1, 2}", "{2}",
		"<<>>", "(0 :> 1)", "<<1>>", "<<1, 2>>", `(1 :> 1 @@ "a" :> 1)`, "<<2>>", "[a |-> 1]",
		"[a |-> 1, b |-> 1]", "[b |-> 0]", "(mv :> 1)", "({} :> 1)",
	} {
		v, err := ParseValue(s)
		require.NoError(t, err)
		vals = append(vals, v)
	}
	for i, a := range vals {
		for j, b := range vals {
			require.Equal(t, -Compare(a, b), Compare(b, a), "%s %s", a, b)
			require.Equal(t, i == j, Compare(a, b) == 0, "%s %s", a, b)
			for _, c := range vals {
				if Compare(a, b) <= 0 && Compare(b, c) <= 0 {
					require.LessOrEqual(t, Compare(a, c), 0, "%s %s %s", a, b, c)
				}
			}
		}
	}
	require.True(t, slices.IsSortedFunc(vals, Compare), "the list above is in canonical order")
}

func TestAccessors(t *testing.T) {
	v, err := ParseValue(`[disp |-> <<[a |-> "Working"], [a |-> "none"]>>, alive |-> 1..2, f |-> (mv :> 3)]`)
	require.NoError(t, err)
	r := v.(Record)
	require.Equal(t, 3, r.Len())
	require.Equal(t, []string{"alive", "disp", "f"}, []string{r.Fields()[0].Name, r.Fields()[1].Name, r.Fields()[2].Name})
	disp, ok := Apply(v, Str("disp"))
	require.True(t, ok)
	n2, ok := Apply(disp, Int(2))
	require.True(t, ok)
	st, ok := Apply(n2, Str("a"))
	require.True(t, ok)
	require.Equal(t, Str("none"), st)
	_, ok = Apply(disp, Int(3))
	require.False(t, ok)
	_, ok = Apply(disp, Int(0))
	require.False(t, ok)
	_, ok = Apply(Int(1), Int(1))
	require.False(t, ok)
	alive, _ := r.Get("alive")
	require.True(t, alive.(Set).Contains(Int(2)))
	require.False(t, alive.(Set).Contains(Int(3)))
	require.Equal(t, 2, alive.(Set).Len())
	f, _ := r.Get("f")
	three, ok := Apply(f, ModelValue("mv"))
	require.True(t, ok)
	require.Equal(t, Int(3), three)
	require.Equal(t, []Pair{{ModelValue("mv"), Int(3)}}, f.(Func).Pairs())
	_, ok = r.Get("nope")
	require.False(t, ok)

	_, err = NewFunc(Pair{Int(1), Int(1)}, Pair{Int(1), Int(2)})
	require.Error(t, err)
	_, err = NewRecord(Field{"a", Int(1)}, Field{"a", Int(1)})
	require.Error(t, err)
	_, err = NewFunc(Pair{Int(1), nil})
	require.Error(t, err)
	empty := mustRecord(t)
	require.Equal(t, KindSeq, empty.Kind())
	require.True(t, Equal(empty, Record{}))
	require.True(t, Equal(Func{}, NewSeq()))
	require.Equal(t, "<<>>", Record{}.String())
	require.Equal(t, "<<>>", Func{}.String())
	require.Equal(t, "sequence", KindSeq.String())
}

// AppendCanonical prints what String prints, into the caller's buffer, allocating nothing
// once the buffer has room.
func TestAppendCanonical(t *testing.T) {
	st, err := ParseState(tlcState)
	require.NoError(t, err)
	buf := make([]byte, 0, 1024)
	for name, v := range st {
		buf = AppendCanonical(buf[:0], v)
		require.Equal(t, v.String(), string(buf), name)
		allocs := testing.AllocsPerRun(10, func() { buf = AppendCanonical(buf[:0], v) })
		require.Zero(t, allocs, name)
	}
	require.Equal(t, "x = TRUE", string(AppendCanonical([]byte("x = "), Bool(true))))
}

func TestIsIdent(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a", true},
		{"_x1", true},
		{"Working", true},
		{"a_b", true},
		{"", false},
		{"_", false},
		{"__1", false},
		{"1a", false},
		{"a b", false},
		{"a-b", false},
		{"TRUE", false},
		{"FALSE", false},
		{"héllo", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, IsIdent(tt.in), "%q", tt.in)
	}
}

func TestParseValueErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "want a value, found end of input"},
		{"   ", 3, "want a value"},
		{"1 2", 2, "after the value"},
		{"{1, 2", 5, `want "," or "}"`},
		{"{1, 2,}", 6, "want a value"},
		{"{1 2}", 3, `want "," or "}"`},
		{"<<1, 2", 6, `want "," or ">>"`},
		{"<<1>", 3, `want "," or ">>"`},
		{"<<1>>>>", 5, "after the value"},
		{"<1>>", 0, `want "<<"`},
		{"[a |-> 1", 8, `want "," or "]"`},
		{"[a = 1]", 3, `want "|->"`},
		{"[]", 1, "want a field name"},
		{"[1 |-> 2]", 1, "want a field name"},
		{"[a |-> 1, a |-> 2]", 10, `duplicate field "a"`},
		{"(1 :> 2 @@ 1 :> 3)", 11, "duplicate key 1"},
		{"(1 :> 2", 7, `want "@@" or ")"`},
		{"(1)", 2, `want ":>"`},
		{"()", 1, "want a value"},
		{`"abc`, 0, "unterminated string"},
		{`"a\qb"`, 2, `bad escape "\\q"`},
		{`"a\`, 2, "unterminated escape"},
		{"\"a\nb\"", 2, "line break in a string"},
		{"99999999999999999999", 0, "out of range"},
		{"-", 1, "want digits"},
		{"12ab", 2, "in a number"},
		{"1..", 3, "upper bound"},
		{"1..x", 3, "upper bound"},
		{"0..100000000", 3, "more than"},
		{"-9223372036854775808..9223372036854775807", 22, "more than"},
		{"_", 0, "not an identifier"},
		{"a.b", 1, "after the value"},
		{"@", 0, "want a value"},
		{"{1, } ", 4, "want a value"},
		{strings.Repeat("{", MaxDepth+1), MaxDepth, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := ParseValue(tt.in)
			require.Error(t, err, "parsed as %v", v)
			require.ErrorIs(t, err, ErrSyntax)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, tt.offset, pe.Offset, pe.Error())
			require.Contains(t, pe.Msg, tt.msg)
			require.Contains(t, err.Error(), "offset")
		})
	}
}

func TestParseState(t *testing.T) {
	st, err := ParseState("x = 0")
	require.NoError(t, err)
	require.Equal(t, State{"x": Int(0)}, st)

	st, err = ParseState("/\\ phase = \"run\"\n/\\ alive = 1..2\n/\\ disp = << [m |-> \"none\", a |-> \"Working\"],\n   [m |-> \"none\", a |-> \"none\"] >>\n")
	require.NoError(t, err)
	require.Len(t, st, 3)
	require.Equal(t, Str("run"), st["phase"])
	require.Equal(t, "{1, 2}", st["alive"].String())
	require.Equal(t, `<<[a |-> "Working", m |-> "none"], [a |-> "none", m |-> "none"]>>`, st["disp"].String())

	st, err = ParseState(`/\ x = 1 /\ y = <<>>`)
	require.NoError(t, err)
	require.True(t, st.Equal(State{"x": Int(1), "y": NewSeq()}))
	require.False(t, st.Equal(State{"x": Int(1), "y": NewSet()}))
	require.False(t, st.Equal(State{"x": Int(1)}))
	require.False(t, st.Equal(State{"x": Int(1), "z": NewSeq()}))

	errs := []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "want a variable name"},
		{"x 1", 2, `missing "="`},
		{"/\\ x = 1\n/\\ y 2", 14, `missing "=" after variable "y"`},
		{"/\\ x = 1\n/\\ x = 2", 12, `duplicate variable "x"`},
		{"/\\ x = 1\n y = 2", 10, `want "/\"`},
		{"x = 1 y = 2", 6, "after the value"},
		{"/\\ = 1", 3, "want a variable name"},
		{"/\\ x = {1", 9, `want "," or "}"`},
		{"/\\ x == 1", 6, "want a value"},
	}
	for _, tt := range errs {
		_, err := ParseState(tt.in)
		require.ErrorIs(t, err, ErrSyntax, tt.in)
		var pe *ParseError
		require.True(t, errors.As(err, &pe), tt.in)
		require.Equal(t, tt.offset, pe.Offset, "%q: %v", tt.in, err)
		require.Contains(t, pe.Msg, tt.msg, tt.in)
	}
}

// parseCached parses in like ParseValue, but through the cache of a NewParser (which a
// dump's reader uses), twice (the second time from the cache).
func parseCached(in string, p *Parser) (Value, error) {
	var v Value
	var err error
	for range 2 {
		p.s, p.pos = in, 0
		if v, err = p.value(0); err != nil {
			return nil, err
		}
		if p.skipSpace(); p.pos < len(in) {
			return nil, p.errorf(p.pos, "trailing text")
		}
	}
	return v, nil
}

func TestParseCached(t *testing.T) {
	p := NewParser()
	for _, in := range []string{tlcState[len(`/\ a = `):strings.Index(tlcState, "\n")], `[aaaaaaaaaaaaaaaaaaaa |-> "xxxxxxxxxxxx"]`,
		`{"an unterminated string that is long`, `<<"a long string <<>> with brackets", [k |-> "v\""]>>`} {
		want, wantErr := ParseValue(in)
		got, err := parseCached(in, p)
		require.Equal(t, wantErr == nil, err == nil, in)
		if err == nil {
			require.True(t, Equal(want, got), in)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range []string{
		"0", "-5", "TRUE", `"a\"b\\c\n"`, "mv", "{}", "{1, 2}", "1..3", "<< >>", "<<<<>>>>",
		`[a |-> 1, b |-> "x"]`, "(1 :> 2 @@ 3 :> 4)", `("a" :> 1)`, "(2 :> 1 @@ 1 :> 2)",
		"{[a |-> {1}], [a |-> <<>>]}", "({1} :> <<2>>)", tlcState,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if v, err := ParseValue(in); err != nil {
			require.ErrorIs(t, err, ErrSyntax)
		} else {
			s := v.String()
			back, err := ParseValue(s)
			require.NoError(t, err, "%q prints as %q", in, s)
			require.True(t, Equal(v, back), "%q prints as %q", in, s)
			require.Equal(t, s, back.String())
			require.Equal(t, v.Kind(), back.Kind())
		}
		cached, err := parseCached(in, NewParser())
		if v, verr := ParseValue(in); verr == nil {
			require.NoError(t, err)
			require.True(t, Equal(v, cached))
		} else {
			require.Error(t, err)
		}
		if st, err := ParseState(in); err != nil {
			require.ErrorIs(t, err, ErrSyntax)
		} else {
			back, err := ParseState(st.String())
			require.NoError(t, err, "%q prints as %q", in, st.String())
			require.True(t, st.Equal(back))
		}
	})
}
