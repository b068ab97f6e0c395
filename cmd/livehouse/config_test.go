package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func parseServe(t *testing.T, args ...string) (options, error) {
	t.Helper()
	var o options
	fs := newFlagSet("serve", io.Discard, &o, true)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	_, err := o.serverConfig(nil)
	return o, err
}

func TestMalformedEnvironmentSettingsAreErrorsNamingTheVariable(t *testing.T) {
	for key, value := range map[string]string{
		"LIVEHOUSE_RECONNECT_GRACE": "10", // no unit
		"LIVEHOUSE_PART_TARGET":     "fast",
		"LIVEHOUSE_TRUST_PROXY":     "maybe",
	} {
		t.Run(key, func(t *testing.T) {
			t.Setenv(key, value)
			_, err := parseServe(t)
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Fatalf("serverConfig with %s=%q: %v, want an error naming the variable", key, value, err)
			}
		})
	}
}

func TestEnvironmentSettingsApplyAndFlagsOverrideThem(t *testing.T) {
	t.Setenv("LIVEHOUSE_RECONNECT_GRACE", "30s")
	t.Setenv("LIVEHOUSE_TRUST_PROXY", "yes")
	t.Setenv("LIVEHOUSE_PART_TARGET", "300ms")
	o, err := parseServe(t, "--part-target", "250ms")
	if err != nil {
		t.Fatal(err)
	}
	if o.grace != 30*time.Second || !o.trustProxy || o.partTarget != 250*time.Millisecond {
		t.Errorf("grace %v, trust proxy %v, part target %v", o.grace, o.trustProxy, o.partTarget)
	}
}

func TestInconsistentHLSTimingIsRefusedAtStart(t *testing.T) {
	for _, args := range [][]string{
		{"--part-target", "2s"},
		{"--part-target", "1500ms"},
		{"--segment-min", "3s"},
		{"--part-target", "-1s"},
	} {
		if _, err := parseServe(t, args...); err == nil || !strings.Contains(err.Error(), "hls:") {
			t.Errorf("%v: %v, want an hls timing error", args, err)
		}
	}
	if _, err := parseServe(t, "--segment-min", "3s", "--target-duration", "3s"); err != nil {
		t.Errorf("a consistent setting was refused: %v", err)
	}
}

func TestTrustedProxiesAndChatSocketBoundReachTheServer(t *testing.T) {
	t.Setenv("LIVEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,2001:db8::/32")
	o, err := parseServe(t, "--chat-max-sockets", "50")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.serverConfig(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(cfg.TrustedProxies)
	if got != "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32]" || cfg.ChatMaxSockets != 50 {
		t.Errorf("trusted proxies %s, chat sockets %d", got, cfg.ChatMaxSockets)
	}
	t.Setenv("LIVEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8,cdn.example.com")
	o, _ = parseServe(t)
	if _, err := o.serverConfig(slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "LIVEHOUSE_TRUSTED_PROXIES") {
		t.Errorf("a host name among the trusted proxies: %v, want an error naming the variable", err)
	}
}
