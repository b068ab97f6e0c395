// Package bench holds the in-tree benchmarks behind `livehouse bench`: each
// starts a real server and real ffmpeg publishers on loopback and prints the
// figures recorded in docs/BENCHMARKS.md.
package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Func runs one benchmark with its own flags, writing a report to out.
type Func func(ctx context.Context, args []string, out io.Writer) error

// Benchmarks returns the benchmarks by name.
func Benchmarks() map[string]Func {
	return map[string]Func{
		"startup":   Startup,
		"latency":   Latency,
		"transcode": TranscodeCost,
		"origin":    Origin,
		"directory": Directory,
		"chat":      Chat,
		// chat-clients is the client process that Chat starts.
		"chat-clients": ChatClients,
		"poll":         Poll,
		// poll-voters is the voter process that Poll starts.
		"poll-voters": PollVoters,
		"gifts":       Gifts,
		"renewals":    Renewals,
	}
}

// Run runs the benchmark called name.
func Run(ctx context.Context, name string, args []string, out io.Writer) error {
	b, ok := Benchmarks()[name]
	if !ok {
		names := make([]string, 0)
		for n := range Benchmarks() {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown benchmark %q; want one of %s", name, strings.Join(names, ", "))
	}
	return b(ctx, args, out)
}
