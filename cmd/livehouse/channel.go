package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

func channel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("channel: want create, rotate-key or list")
	}
	var o options
	fs := newFlagSet("channel "+args[0], stderr, &o, false)
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	st, _, err := o.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	rtmpURL, httpBase := o.urls()

	slugArg := func() (string, error) {
		if len(positional) != 1 {
			return "", fmt.Errorf("channel %s: want exactly one <slug>", args[0])
		}
		return positional[0], nil
	}
	switch args[0] {
	case "create":
		slug, err := slugArg()
		if err != nil {
			return err
		}
		ch, key, err := st.CreateChannel(ctx, slug)
		if err != nil {
			return err
		}
		printKey(stdout, ch.Slug, rtmpURL, key, httpBase)
	case "rotate-key":
		slug, err := slugArg()
		if err != nil {
			return err
		}
		key, err := st.RotateKey(ctx, slug)
		if err != nil {
			return err
		}
		printKey(stdout, slug, rtmpURL, key, httpBase)
		fmt.Fprintln(stdout, "The old key no longer works.")
	case "list":
		chs, err := st.ListChannels(ctx)
		if err != nil {
			return err
		}
		if len(chs) == 0 {
			fmt.Fprintln(stdout, "No channels yet. Create one with: livehouse channel create <slug>")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SLUG\tCREATED\tKEY ROTATED\tPLAYBACK URL")
		for _, c := range chs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Slug, c.CreatedAt.Format(time.DateTime), c.KeyRotatedAt.Format(time.DateTime),
				httpBase+"/hls/"+c.Slug+"/index.m3u8")
		}
		return tw.Flush()
	default:
		return fmt.Errorf("channel: unknown subcommand %q; want create, rotate-key or list", args[0])
	}
	return nil
}

func printKey(w io.Writer, slug, rtmpURL, key, httpBase string) {
	fmt.Fprintf(w, "Channel:      %s\n", slug)
	fmt.Fprintf(w, "RTMP server:  %s\n", rtmpURL)
	fmt.Fprintf(w, "Stream key:   %s\n", key)
	fmt.Fprintf(w, "Playback URL: %s/hls/%s/index.m3u8\n\n", httpBase, slug)
	fmt.Fprintf(w, "The stream key is shown only now; it is stored hashed. Keep it secret.\n")
	fmt.Fprintf(w, "OBS: Settings > Stream > Service: Custom, Server: %s, Stream Key: (the key above).\n", rtmpURL)
	fmt.Fprintf(w, "ffmpeg: ffmpeg -re -i INPUT -c:v libx264 -g 60 -c:a aac -f flv %s/<key>\n", rtmpURL)
}
