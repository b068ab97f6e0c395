package main

import (
	"context"
	"io"

	"github.com/livehouse/livehouse/internal/server"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("serve", stderr, &o, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := o.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := o.serverConfig(logger)
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		return err
	}
	err = srv.Wait(ctx)
	logger.Info("shutting down")
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	logger.Info("stopped")
	return err
}
