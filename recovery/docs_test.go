package recovery

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRuleTableIsTheCode: docs/recovery.md's rule table names exactly the rules the code
// logs, no more, no fewer.
func TestRuleTableIsTheCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/recovery.md")
	require.NoError(t, err)
	var documented []string
	name := regexp.MustCompile("`([0-9A-Z][^`]*)`")
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1] // the rule column
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}
	slices.Sort(documented)
	code := slices.Clone(ruleNames[:])
	slices.Sort(code)
	require.Equal(t, code, documented)
}
