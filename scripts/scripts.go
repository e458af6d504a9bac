package scripts

import _ "embed"

//go:embed tlc.sh
var tlc string

// TLC is the text of scripts/tlc.sh, which fetches TLC once, verifies it and runs it.
func TLC() string { return tlc }
