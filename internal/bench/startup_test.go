package bench

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkNoLeaks fails the test if child processes or goroutines started by it
// outlive it.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		if err := waitChildren(context.Background(), 5*time.Second); err != nil {
			t.Errorf("leaked processes: %v", err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

func TestBenchmarksRejectBadFlagsBeforeStartingAnything(t *testing.T) {
	tests := []struct {
		name string
		run  Func
		args []string
	}{
		{"startup with no runs", Startup, []string{"-runs", "0"}},
		{"startup with an unknown flag", Startup, []string{"-frobnicate"}},
		{"latency with no duration", Latency, []string{"-duration", "0s"}},
		{"latency with a bad fps", Latency, []string{"-fps", "-1"}},
		{"transcode with no runs", TranscodeCost, []string{"-runs", "0"}},
		{"transcode with a sub-second file", TranscodeCost, []string{"-duration", "500ms"}},
	}
	checkNoLeaks(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := tc.run(context.Background(), tc.args, &out); err == nil {
				t.Fatalf("%v accepted; output:\n%s", tc.args, out.String())
			}
		})
	}
}

func TestStartupTimesEveryRenditionOfTheDefaultLadder(t *testing.T) {
	needFFmpeg(t)
	checkNoLeaks(t)
	var out bytes.Buffer
	if err := Startup(context.Background(), []string{"-runs", "1"}, &out); err != nil {
		t.Fatalf("Startup: %v\n%s", err, out.String())
	}
	report := out.String()
	t.Log("\n" + report)
	for _, want := range []string{"part:source", "part:480p", "part:360p", "READY", "startup median",
		"spawned -> input probed", "reproduce: livehouse bench startup -runs 1"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(report, "FAIL") {
		t.Errorf("init + first part did not decode")
	}
}
