package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/payment"
	"github.com/livehouse/livehouse/internal/server"
	"github.com/livehouse/livehouse/internal/store"
	"github.com/livehouse/livehouse/internal/transcode"
)

// options are the settings shared by the commands that touch a server.
type options struct {
	httpAddr, rtmpAddr, data, databaseURL, publicHost string
	ladderFile, encoder, preset, ffmpeg, logLevel     string
	renditions                                        stringList
	grace, partTarget, segmentMin, readTimeout        time.Duration
	targetDuration                                    time.Duration
	secureCookies, trustProxy, webhooksPrivate        bool
	natsURL                                           string
	trustedProxies                                    prefixList
	chatMaxSockets                                    int
	noSandbox                                         bool
	stripeSecret, stripeWebhookSecret                 string
	envErrs                                           []error // malformed environment settings
}

type stringList []string

// prefixList is a comma-separated list of CIDR prefixes or bare addresses
// (a bare address is its own /32 or /128); the flag may also repeat.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	out := make([]string, len(*l))
	for i, p := range *l {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}

func (l *prefixList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			*l = append(*l, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is neither an address nor a CIDR prefix (like 10.0.0.0/8 or 2001:db8::/32)", f)
		}
		a = a.Unmap()
		*l = append(*l, netip.PrefixFrom(a, a.BitLen()))
	}
	return nil
}

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func newFlagSet(name string, stderr io.Writer, o *options, withServer bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.httpAddr, "http-addr", env("LIVEHOUSE_HTTP_ADDR", "127.0.0.1:8080"), "HTTP listen address (env LIVEHOUSE_HTTP_ADDR)")
	fs.StringVar(&o.rtmpAddr, "rtmp-addr", env("LIVEHOUSE_RTMP_ADDR", "127.0.0.1:1935"), "RTMP listen address (env LIVEHOUSE_RTMP_ADDR)")
	fs.StringVar(&o.data, "data", env("LIVEHOUSE_DATA", "data"), "data directory: SQLite database, thumbnails (env LIVEHOUSE_DATA)")
	fs.StringVar(&o.databaseURL, "database-url", env("LIVEHOUSE_DATABASE_URL", ""), "PostgreSQL URL (postgres://…); empty means SQLite in the data directory (env LIVEHOUSE_DATABASE_URL)")
	fs.StringVar(&o.publicHost, "public-host", env("LIVEHOUSE_PUBLIC_HOST", ""), "host name printed in URLs; default: the listen addresses (env LIVEHOUSE_PUBLIC_HOST)")
	fs.StringVar(&o.logLevel, "log-level", env("LIVEHOUSE_LOG_LEVEL", "info"), "debug, info, warn or error (env LIVEHOUSE_LOG_LEVEL)")
	if withServer {
		fs.StringVar(&o.ladderFile, "ladder", env("LIVEHOUSE_LADDER", ""), "JSON file with the transcoding ladder (env LIVEHOUSE_LADDER); see docs/OPERATIONS.md")
		fs.Var(&o.renditions, "rendition", "a scaled rendition NAME:HEIGHT:KBPS[:MAXFPS], repeatable; replaces the default scaled renditions")
		fs.StringVar(&o.encoder, "encoder", env("LIVEHOUSE_ENCODER", ""), "video encoder: libx264, h264_nvenc, h264_vaapi or h264_qsv (env LIVEHOUSE_ENCODER)")
		fs.StringVar(&o.preset, "preset", env("LIVEHOUSE_PRESET", ""), "encoder preset, e.g. superfast (env LIVEHOUSE_PRESET)")
		fs.StringVar(&o.ffmpeg, "ffmpeg", env("LIVEHOUSE_FFMPEG", "ffmpeg"), "ffmpeg binary (env LIVEHOUSE_FFMPEG)")
		fs.DurationVar(&o.grace, "reconnect-grace", 10*time.Second, "how long a broadcast waits for its encoder to reconnect (env LIVEHOUSE_RECONNECT_GRACE)")
		fs.DurationVar(&o.partTarget, "part-target", 200*time.Millisecond, "LL-HLS part target duration (env LIVEHOUSE_PART_TARGET)")
		fs.DurationVar(&o.segmentMin, "segment-min", time.Second, "shortest segment; segments end at the first key frame after it (env LIVEHOUSE_SEGMENT_MIN)")
		fs.DurationVar(&o.targetDuration, "target-duration", 2*time.Second, "EXT-X-TARGETDURATION, whole seconds; must cover the publishers' key frame interval (env LIVEHOUSE_TARGET_DURATION)")
		fs.DurationVar(&o.readTimeout, "ingest-timeout", 10*time.Second, "close an encoder that sends nothing for this long (env LIVEHOUSE_INGEST_TIMEOUT)")
		fs.BoolVar(&o.secureCookies, "secure-cookies", false, "mark session cookies Secure (behind a TLS-terminating proxy) (env LIVEHOUSE_SECURE_COOKIES)")
		fs.BoolVar(&o.trustProxy, "trust-proxy", false, "take client addresses from X-Forwarded-For, for rate limits; only behind a proxy that sets it (env LIVEHOUSE_TRUST_PROXY)")
		fs.Var(&o.trustedProxies, "trusted-proxies", "comma-separated addresses or CIDR prefixes of the CDN edges and proxies in front of the server; client addresses come from X-Forwarded-For past them (env LIVEHOUSE_TRUSTED_PROXIES)")
		fs.IntVar(&o.chatMaxSockets, "chat-max-sockets", 200, "chat sockets one client network may hold open on this node; 0 means no bound (env LIVEHOUSE_CHAT_MAX_SOCKETS)")
		fs.StringVar(&o.natsURL, "nats-url", env("LIVEHOUSE_NATS_URL", ""), "NATS server (nats://host:4222) carrying chat between nodes; empty: this process only (env LIVEHOUSE_NATS_URL)")
		fs.BoolVar(&o.webhooksPrivate, "webhooks-allow-private", false, "let webhooks call loopback and private addresses (env LIVEHOUSE_WEBHOOKS_ALLOW_PRIVATE)")
		fs.BoolVar(&o.noSandbox, "no-sandbox-payments", false, "turn off the sandbox payment provider and its test cards (env LIVEHOUSE_NO_SANDBOX_PAYMENTS)")
		// Typed settings from the environment go through the flags' own
		// parsers, so a malformed value is an error naming the variable.
		for _, e := range []struct{ flag, env string }{
			{"reconnect-grace", "LIVEHOUSE_RECONNECT_GRACE"},
			{"part-target", "LIVEHOUSE_PART_TARGET"},
			{"segment-min", "LIVEHOUSE_SEGMENT_MIN"},
			{"target-duration", "LIVEHOUSE_TARGET_DURATION"},
			{"ingest-timeout", "LIVEHOUSE_INGEST_TIMEOUT"},
			{"secure-cookies", "LIVEHOUSE_SECURE_COOKIES"},
			{"trust-proxy", "LIVEHOUSE_TRUST_PROXY"},
			{"trusted-proxies", "LIVEHOUSE_TRUSTED_PROXIES"},
			{"chat-max-sockets", "LIVEHOUSE_CHAT_MAX_SOCKETS"},
			{"webhooks-allow-private", "LIVEHOUSE_WEBHOOKS_ALLOW_PRIVATE"},
			{"no-sandbox-payments", "LIVEHOUSE_NO_SANDBOX_PAYMENTS"},
		} {
			o.setFromEnv(fs, e.flag, e.env)
		}
		// Secrets come from the environment only, so they never show in a process list.
		o.stripeSecret = os.Getenv("LIVEHOUSE_STRIPE_SECRET_KEY")
		o.stripeWebhookSecret = os.Getenv("LIVEHOUSE_STRIPE_WEBHOOK_SECRET")
	}
	return fs
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// setFromEnv sets flag name from the environment variable key, if set,
// recording a malformed value in o.envErrs. Booleans also take yes and no.
func (o *options) setFromEnv(fs *flag.FlagSet, name, key string) {
	v, ok := os.LookupEnv(key)
	if !ok || v == "" {
		return
	}
	if f := fs.Lookup(name); f != nil {
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); isBool {
			switch strings.ToLower(v) {
			case "yes":
				v = "true"
			case "no":
				v = "false"
			}
		}
	}
	if err := fs.Set(name, v); err != nil {
		o.envErrs = append(o.envErrs, fmt.Errorf("environment variable %s=%q (for --%s): %w", key, v, name, err))
	}
}

func (o *options) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// ladder builds the transcoding ladder from the file and flags.
func (o *options) ladder() (transcode.Ladder, error) {
	l := transcode.DefaultLadder()
	if o.ladderFile != "" {
		data, err := os.ReadFile(o.ladderFile)
		if err != nil {
			return l, fmt.Errorf("--ladder: %w", err)
		}
		if l, err = transcode.ParseLadder(data); err != nil {
			return l, fmt.Errorf("--ladder %s: %w", o.ladderFile, err)
		}
	}
	if len(o.renditions) > 0 {
		var rs []transcode.Rendition
		for _, r := range l.Renditions {
			if r.Passthrough {
				rs = append(rs, r)
			}
		}
		for _, spec := range o.renditions {
			r, err := transcode.ParseRenditionFlag(spec)
			if err != nil {
				return l, fmt.Errorf("--rendition %q: %w", spec, err)
			}
			rs = append(rs, r)
		}
		l.Renditions = rs
	}
	if o.encoder != "" {
		l.Encoder = o.encoder
	}
	if o.preset != "" {
		l.Preset = o.preset
	}
	if err := l.Validate(); err != nil {
		return l, fmt.Errorf("ladder: %w", err)
	}
	return l, nil
}

func (o *options) serverConfig(logger *slog.Logger) (server.Config, error) {
	if err := errors.Join(o.envErrs...); err != nil {
		return server.Config{}, err
	}
	l, err := o.ladder()
	if err != nil {
		return server.Config{}, err
	}
	hlsCfg := hls.Config{PartTarget: o.partTarget, SegmentMin: o.segmentMin, TargetDuration: o.targetDuration}
	if err := hlsCfg.Validate(); err != nil {
		return server.Config{}, fmt.Errorf("--part-target, --segment-min, --target-duration: %w", err)
	}
	publicRTMP := ""
	if o.publicHost != "" {
		publicRTMP, _ = o.urls()
	}
	return server.Config{
		PublicRTMPURL:       publicRTMP,
		SecureCookies:       o.secureCookies,
		TrustProxy:          o.trustProxy,
		TrustedProxies:      o.trustedProxies,
		ChatMaxSockets:      o.chatMaxSockets,
		WebhookAllowPrivate: o.webhooksPrivate,
		HTTPAddr:            o.httpAddr,
		RTMPAddr:            o.rtmpAddr,
		DataDir:             o.data,
		DatabaseURL:         o.databaseURL,
		NATSURL:             o.natsURL,
		Ladder:              l,
		HLS:                 hlsCfg,
		FFmpegPath:          o.ffmpeg,
		Grace:               o.grace,
		RTMPReadTimeout:     o.readTimeout,
		NoSandbox:           o.noSandbox,
		Stripe:              o.stripe(),
		Logger:              logger,
	}, nil
}

// stripe configures the Stripe provider from LIVEHOUSE_STRIPE_SECRET_KEY and
// LIVEHOUSE_STRIPE_WEBHOOK_SECRET; Checkout returns buyers to the wallet page.
func (o *options) stripe() payment.Stripe {
	if o.stripeSecret == "" {
		return payment.Stripe{}
	}
	_, base := o.urls()
	return payment.Stripe{SecretKey: o.stripeSecret, WebhookSecret: o.stripeWebhookSecret,
		SuccessURL: base + "/account/wallet?checkout=done", CancelURL: base + "/account/wallet?checkout=cancelled"}
}

// urls returns the RTMP server URL and the playback URL base that users see.
func (o *options) urls() (rtmpURL, httpBase string) {
	rtmpHost, httpHost := o.rtmpAddr, o.httpAddr
	if o.publicHost != "" {
		rtmpHost = withHost(rtmpHost, o.publicHost, "1935")
		httpHost = withHost(httpHost, o.publicHost, "80")
	}
	return "rtmp://" + trimPort(rtmpHost, "1935") + "/live", "http://" + trimPort(httpHost, "80")
}

func withHost(addr, host, defPort string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		port = defPort
	}
	return net.JoinHostPort(host, port)
}

func trimPort(addr, def string) string {
	if h, p, err := net.SplitHostPort(addr); err == nil && p == def {
		return h
	}
	return addr
}

// parseInterspersed parses flags that may come before or after positional
// arguments, as in "channel create demo --data /srv/lh".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openStore opens the store the command-line tools work on: the one at
// --database-url, else SQLite in the data directory. Logs are discarded.
func (o *options) openStore(ctx context.Context) (*store.Store, *slog.Logger, error) {
	logger, err := o.logger(io.Discard)
	if err != nil {
		return nil, nil, err
	}
	dsn := o.databaseURL
	if dsn == "" {
		dsn = filepath.Join(o.data, "livehouse.db")
	}
	st, err := store.Open(ctx, dsn, logger)
	return st, logger, err
}
