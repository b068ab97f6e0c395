package bench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/transcode"
)

func TestBaselineIsPlainArgsPacedInRealTime(t *testing.T) {
	src := sourceTracks(1280, 720, 30)
	l := transcode.DefaultLadder()
	cfg := transcode.ArgsConfig{Ladder: l, Plan: l.Plan(src), Source: src}
	plain := transcode.PlainArgs(cfg, "in.flv")
	got := baselineArgs(cfg, "in.flv")
	i := slices.Index(got, "-i")
	if i < 1 || got[i-1] != "-re" || got[i+1] != "in.flv" {
		t.Fatalf("-re not right before -i: %v", got)
	}
	if without := slices.Delete(slices.Clone(got), i-1, i); !slices.Equal(without, plain) {
		t.Fatalf("baseline differs from PlainArgs beyond -re:\n%v\n%v", without, plain)
	}
}

func TestTranscodeCostMeasuresBothSides(t *testing.T) {
	needFFmpeg(t)
	checkNoLeaks(t)
	var out bytes.Buffer
	if err := TranscodeCost(context.Background(), []string{"-runs", "1", "-duration", "3s"}, &out); err != nil {
		t.Fatalf("TranscodeCost: %v\n%s", err, out.String())
	}
	report := out.String()
	t.Log("\n" + report)
	for _, want := range []string{"livehouse", "baseline", "ratio livehouse/plain", "-re -i",
		"reproduce: livehouse bench transcode -runs 1 -duration 3s"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(report, "NaN") || strings.Contains(report, "+Inf") || strings.Contains(report, " 0.000 ") {
		t.Errorf("report has an empty measurement")
	}
}
