package main

import (
	"context"
	"errors"
	"io"

	"github.com/livehouse/livehouse/internal/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("bench: name a benchmark: startup, latency, transcode or origin")
	}
	return bench.Run(ctx, args[0], args[1:], stdout)
}
