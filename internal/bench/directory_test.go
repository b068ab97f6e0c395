package bench

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDirectoryBenchmarkReportsEveryQueryOnEachEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out strings.Builder
	err := Directory(ctx, []string{"-channels", "300", "-live", "40", "-users", "20", "-requests", "30", "-warmup", "5"}, &out)
	t.Log("\n" + out.String())
	// On a busy machine a p99 may miss the target; the report must still be whole.
	if err != nil && !strings.Contains(err.Error(), "p99 above") {
		t.Fatal(err)
	}
	for _, q := range []string{"home: live by viewers", "category page \\(music\\)", "search \\(random word\\)"} {
		if !regexp.MustCompile(`(?m)^\| sqlite \| ` + q + ` \| [0-9.]+ ms \| .* \| [1-9][0-9]* \| (yes|NO) \|$`).MatchString(out.String()) {
			t.Errorf("no full sqlite row for %s", q)
		}
	}
}

func TestParseDirectoryFlagsRejectsBadSettings(t *testing.T) {
	for _, args := range [][]string{{"-engines", "mysql"}, {"-live", "20", "-channels", "10"}, {"-requests", "0"}, {"-users", "0"}} {
		if _, err := parseDirectoryFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
