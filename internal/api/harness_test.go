package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/server"
	"github.com/livehouse/livehouse/internal/transcode"
)

// postgresURLEnv names the PostgreSQL server for the postgres leg, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const postgresURLEnv = "LIVEHOUSE_TEST_POSTGRES_URL"

// forEachEngine runs fn against a fresh server on SQLite and, when
// LIVEHOUSE_TEST_POSTGRES_URL is set, on PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresDSN(t)) })
}

func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresURLEnv)
	if base == "" {
		t.Skipf("PostgreSQL leg skipped: %s is not set", postgresURLEnv)
	}
	cfgDB, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("livehouse_apitest_%d", time.Now().UnixNano())
	if _, err := cfgDB.Exec("CREATE SCHEMA " + schema); err != nil {
		cfgDB.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		cfgDB.Exec("DROP SCHEMA " + schema + " CASCADE")
		cfgDB.Close()
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// logBuffer collects the server log so tests can check that no secret
// reaches it.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type testServer struct {
	t    *testing.T
	srv  *server.Server
	base string
	logs *logBuffer
	// secrets are checked against the log when the test ends.
	mu      sync.Mutex
	secrets []string
	once    sync.Once
}

// stop closes the server (once; cleanup calls it too).
func (ts *testServer) stop() {
	ts.once.Do(func() {
		if err := ts.srv.Close(); err != nil {
			ts.t.Errorf("Close: %v", err)
		}
	})
}

// start runs a real server on random loopback ports with cheap password
// hashing and generous rate limits; edit adjusts the config.
func start(t *testing.T, dsn string, edit ...func(*server.Config)) *testServer {
	t.Helper()
	logs := &logBuffer{}
	unlimited := account.Rate{Burst: -1}
	cfg := server.Config{
		HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), DatabaseURL: dsn,
		Ladder:              transcode.Ladder{Encoder: transcode.EncoderX264, Preset: "ultrafast", Renditions: []transcode.Rendition{{Name: "source", Passthrough: true}}},
		Grace:               time.Second,
		Passwords:           account.Params{Time: 1, MemoryKiB: 64, Threads: 1},
		AuthLimits:          account.RateLimits{SignInPerIP: unlimited, SignInPerEmail: unlimited, SignUpPerIP: unlimited},
		HeartbeatLimit:      unlimited,
		ViewerSampleEvery:   100 * time.Millisecond,
		WebhookAllowPrivate: true,
		WebhookPoll:         50 * time.Millisecond,
		WebhookBackoff:      []time.Duration{100 * time.Millisecond},
		Logger:              slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, e := range edit {
		e(&cfg)
	}
	baseGoroutines := runtime.NumGoroutine()
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ts := &testServer{t: t, srv: srv, base: "http://" + srv.HTTPAddr(), logs: logs, secrets: []string{password}}
	t.Cleanup(func() {
		ts.stop()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > baseGoroutines+2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > baseGoroutines+2 {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines after the server stopped, %d before it started\n%s", n, baseGoroutines, buf[:runtime.Stack(buf, true)])
		}
		out := logs.String()
		ts.mu.Lock()
		defer ts.mu.Unlock()
		for _, s := range ts.secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("the server log contains a secret (%.8s…)", s)
			}
		}
		if t.Failed() {
			t.Logf("server log:\n%s", out)
		}
	})
	return ts
}

// secret registers a value that must never appear in the log.
func (ts *testServer) secret(s string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.secrets = append(ts.secrets, s)
}

// client is a browser-like (cookie jar, CSRF header) or token client.
type client struct {
	ts    *testServer
	http  *http.Client
	csrf  string
	token string
	user  map[string]any
}

func (ts *testServer) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{ts: ts, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object (%d): %s", r.status, r.body)
	}
	return m
}

func (r response) errCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// req is a request; body is JSON-encoded unless it is []byte or string.
type req struct {
	method, path string
	body         any
	contentType  string
	header       map[string]string
	noCSRF       bool
}

func (c *client) do(t *testing.T, r req) response {
	t.Helper()
	var body io.Reader
	ct := r.contentType
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		body = bytes.NewReader(js)
		if ct == "" {
			ct = "application/json"
		}
	}
	hr, err := http.NewRequestWithContext(t.Context(), r.method, c.ts.base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if c.csrf != "" && !r.noCSRF {
		hr.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := c.http.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (c *client) get(t *testing.T, path string) response {
	return c.do(t, req{method: "GET", path: path})
}

// want checks the status and returns the answer.
func want(t *testing.T, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

const password = "a long enough password"

// signUp makes a new account and returns its signed-in browser client.
func (ts *testServer) signUp(t *testing.T, email string) *client {
	t.Helper()
	c := ts.anon()
	r := want(t, c.do(t, req{method: "POST", path: "/api/v1/auth/signup",
		body: map[string]string{"email": email, "password": password, "display_name": strings.Split(email, "@")[0]}}), 201)
	m := r.json(t)
	c.csrf = m["csrf_token"].(string)
	c.user = m["user"].(map[string]any)
	ts.secret(c.csrf)
	for _, ck := range c.http.Jar.Cookies(mustURL(ts.base)) {
		ts.secret(ck.Value)
	}
	return c
}

// admin makes an admin account with the CLI path and signs it in.
func (ts *testServer) admin(t *testing.T, email string) *client {
	t.Helper()
	_, pw, err := ts.srv.Accounts().CreateAdmin(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	ts.secret(pw)
	c := ts.anon()
	m := want(t, c.do(t, req{method: "POST", path: "/api/v1/auth/signin", body: map[string]string{"email": email, "password": pw}}), 200).json(t)
	c.csrf, c.user = m["csrf_token"].(string), m["user"].(map[string]any)
	return c
}

// createChannel creates a channel as c and returns its stream key.
func (c *client) createChannel(t *testing.T, slug, category string) string {
	t.Helper()
	m := want(t, c.do(t, req{method: "POST", path: "/api/v1/channels",
		body: map[string]any{"slug": slug, "display_name": "Channel " + slug, "category": category}}), 201).json(t)
	key := m["stream_key"].(string)
	c.ts.secret(key)
	return key
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
