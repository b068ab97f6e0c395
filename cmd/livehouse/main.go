// Command livehouse is the Livehouse server and its command-line tools.
//
//	livehouse serve                      run the server with embedded defaults
//	livehouse channel create <slug>      create a channel and print its stream key
//	livehouse channel rotate-key <slug>  replace a channel's stream key
//	livehouse channel list               list channels (never their keys)
//	livehouse admin create <email>       make (or promote) an admin account
//	livehouse ledger verify              check every ledger invariant; exit 1 on a breach
//	livehouse bench <startup|latency|transcode|origin>   measure the figures in docs/BENCHMARKS.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Livehouse: live streaming server.

Usage:
  livehouse serve [flags]                     run the server (HTTP 127.0.0.1:8080, RTMP 127.0.0.1:1935, data in ./data)
  livehouse channel create <slug> [flags]     create a channel; prints the RTMP URL, stream key and playback URL
  livehouse channel rotate-key <slug> [flags] replace a channel's stream key (the old one stops working)
  livehouse channel list [flags]              list channels (keys are never shown again)
  livehouse admin create <email> [flags]      make an admin account (prints a one-time password) or promote one
  livehouse ledger verify [flags]             check every money invariant; exits 1 on any breach
  livehouse bench <name> [flags]              run a benchmark: startup, latency, transcode, origin

Run "livehouse <command> -h" for a command's flags. Every flag can also be set
with an environment variable: --http-addr is LIVEHOUSE_HTTP_ADDR, and so on.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "livehouse:", err)
		}
		if errors.Is(err, errBreach) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "channel":
		return channel(ctx, args[1:], stdout, stderr)
	case "admin":
		return admin(ctx, args[1:], stdout, stderr)
	case "ledger":
		return ledger(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
