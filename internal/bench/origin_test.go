package bench

import (
	"context"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestOriginBenchmarkMeasuresThroughputAndAnswersEveryHeldRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg, wrk and a live server for about 15 s")
	}
	for _, bin := range []string{"wrk", "ffmpeg"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install -y %s)", bin, bin)
		}
	}
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	err := Origin(ctx, []string{"-duration", "1s", "-runs", "1", "-threads", "1", "-connections", "4",
		"-blocked", "300", "-source", "320x180"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, kind := range []string{"playlist", "part", "segment"} {
		row := regexp.MustCompile(`(?m)^\| ` + kind + ` \| source \| [^|]+ \| 4 \| (\d+) \|`).FindStringSubmatch(report)
		if row == nil || row[1] == "0" {
			t.Errorf("no throughput row for %s", kind)
		}
	}
	if !strings.Contains(report, "| held in a handler at once | 300 of 300 |") {
		t.Error("the report does not show all 300 requests held")
	}
	if !strings.Contains(report, "| answers: 200 / other / none | 300 / 0 / 0 |") {
		t.Error("the report does not show all 300 held requests answered 200")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Errorf("%d goroutines after the benchmark, %d before", n, base)
	}
}

func TestParseOriginFlagsRejectsBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{"-connections", "x"},
		{"-source", "1280"},
		{"-source", "641x360"},
		{"-runs", "0"},
		{"-duration", "10ms"},
	} {
		if _, err := parseOriginFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("parseOriginFlags(%q) accepted bad settings", args)
		}
	}
	o, err := parseOriginFlags([]string{"-connections", "16,64", "-threads", "2"}, &strings.Builder{})
	if err != nil || len(o.conns) != 2 || o.conns[1] != 64 || o.blocked != 10000 {
		t.Errorf("parseOriginFlags defaults: %+v, %v", o, err)
	}
}
