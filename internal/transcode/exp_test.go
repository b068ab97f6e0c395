package transcode

import (
	"sort"
	"testing"
	"time"
)

func TestExpStartup(t *testing.T) {
	src := makeSource(t, sourceSpec{Width: 1280, Height: 720, FPS: 30, GOP: 30, Seconds: 1.5})
	var ds []time.Duration
	for range 5 {
		h := startHarness(t, src, DefaultLadder(), "", 1)
		<-h.fed
		h.stream.Close()
		<-h.done
		h.done <- nil
		for _, s := range h.sinks {
			_, _, first := s.snapshot()
			ds = append(ds, first.Sub(h.start))
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	t.Logf("EXPRESULT median %v min %v max %v", ds[len(ds)/2].Round(time.Millisecond), ds[0].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
}

func expWait() time.Duration {
	d, err := time.ParseDuration(envOr("EXP_WAIT", "150ms"))
	if err != nil {
		panic(err)
	}
	return d
}

func TestExpPlainArgs(t *testing.T) {
	src := makeSource(t, src720)
	l := DefaultLadder()
	if p := envOr("EXP_PRESET", ""); p != "" {
		l.Preset = p
	}
	for _, a := range PlainArgs(ArgsConfig{Ladder: l, Plan: l.Plan(src.Tracks), Source: src.Tracks}, "/tmp/tx/src6.ts") {
		t.Logf("ARG %s", a)
	}
}
