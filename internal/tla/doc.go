// Package tla is a model of TLA+ values as TLC 2.18 prints them, and their parser.
//
// A Value is a Bool, Int, Str, ModelValue, Set, Seq, Record or Func; a State maps each
// variable of a spec to its value. ParseValue reads one value and ParseState one state, in
// the syntax TLC uses in its traces and state graph dumps; a Parser reads the many states
// of one dump, sharing what they repeat.
//
// Values are kept in a canonical form, so that two values are Equal exactly when they are
// the same TLA+ value, whatever order TLC printed set elements, record fields or function
// pairs in, and whether TLC printed a function with domain 1..n as a tuple or as
// (1 :> a @@ 2 :> b). String (and AppendCanonical, into a reused buffer) prints that
// canonical form in TLA+ syntax that ParseValue reads back, so equal values also print
// alike and the text can serve as a map key.
//
// Every parse error wraps ErrSyntax and is a *ParseError naming the byte offset in the text.
package tla
