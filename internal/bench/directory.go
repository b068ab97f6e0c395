package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/store"
)

// directoryTarget is the p99 target of every directory query (docs/bench/directory.md).
const directoryTarget = 20 * time.Millisecond

type directoryOptions struct {
	channels, live, users int
	requests, warmup      int
	engines               []string
	postgresURL           string
	seed                  uint64
}

func parseDirectoryFlags(args []string, out io.Writer) (directoryOptions, error) {
	var o directoryOptions
	fs := flag.NewFlagSet("bench directory", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.channels, "channels", 10000, "channels to seed")
	fs.IntVar(&o.live, "live", 500, "of which live")
	fs.IntVar(&o.users, "users", 2000, "owners the channels are spread over")
	fs.IntVar(&o.requests, "requests", 2000, "timed requests per query")
	fs.IntVar(&o.warmup, "warmup", 200, "untimed requests per query first")
	engines := fs.String("engines", "sqlite,postgres", "sqlite, postgres or both")
	fs.StringVar(&o.postgresURL, "postgres-url", firstEnv("LIVEHOUSE_BENCH_POSTGRES_URL", "LIVEHOUSE_TEST_POSTGRES_URL"),
		"PostgreSQL server; the benchmark works in a schema of its own and drops it (env LIVEHOUSE_BENCH_POSTGRES_URL)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed of the synthetic channels")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, e := range strings.Split(*engines, ",") {
		e = strings.TrimSpace(e)
		if e != "sqlite" && e != "postgres" {
			return o, fmt.Errorf("bench directory: unknown engine %q; want sqlite or postgres", e)
		}
		o.engines = append(o.engines, e)
	}
	if o.channels < 1 || o.live < 0 || o.live > o.channels || o.users < 1 || o.requests < 1 || o.warmup < 0 {
		return o, errors.New("bench directory: want -channels >= 1, 0 <= -live <= -channels, -users and -requests >= 1")
	}
	return o, nil
}

func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// Directory measures the directory API over HTTP on a real server: the home
// page (live channels by viewers), a category page and a search, with
// -channels channels of which -live are on the air, on SQLite and
// PostgreSQL. Channels go live through store.StartSession and get viewers
// through store.RecordViewers: the calls the live manager and the viewer
// counter make, and what the directory reads.
func Directory(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseDirectoryFlags(args, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "# Directory API: %d channels, %d live, %d owners; %d requests per query after %d warm-up; load average %s\n\n",
		o.channels, o.live, o.users, o.requests, o.warmup, load1())
	fmt.Fprintln(out, "| engine | query | p50 | p90 | p99 | max | items | p99 <= 20 ms |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
	var failed []string
	for _, eng := range o.engines {
		rows, seedTime, err := benchEngine(ctx, o, eng)
		if errors.Is(err, errNoPostgres) {
			fmt.Fprintf(out, "| postgres | skipped: set -postgres-url or LIVEHOUSE_BENCH_POSTGRES_URL | | | | | | |\n")
			continue
		}
		if err != nil {
			return err
		}
		for _, r := range rows {
			ok := "yes"
			if r.p99 > directoryTarget {
				ok = "NO"
				failed = append(failed, eng+" "+r.name)
			}
			fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s | %d | %s |\n", eng, r.name, millis(r.p50), millis(r.p90), millis(r.p99), millis(r.max), r.items, ok)
		}
		fmt.Fprintf(out, "| %s | (seeding took %s) | | | | | | |\n", eng, seedTime.Round(100*time.Millisecond))
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench directory: p99 above %v for %s", directoryTarget, strings.Join(failed, ", "))
	}
	return nil
}

func millis(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

var errNoPostgres = errors.New("no PostgreSQL URL")

type queryResult struct {
	name               string
	p50, p90, p99, max time.Duration
	items              int
}

func benchEngine(ctx context.Context, o directoryOptions, eng string) ([]queryResult, time.Duration, error) {
	dir, err := os.MkdirTemp("", "livehouse-bench-directory-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	dsn := ""
	if eng == "postgres" {
		if o.postgresURL == "" {
			return nil, 0, errNoPostgres
		}
		var drop func()
		if dsn, drop, err = livetest.PostgresSchema(ctx, o.postgresURL, "livehouse_bench"); err != nil {
			return nil, 0, err
		}
		defer drop()
	}
	srv, err := livetest.StartServer(ctx, livetest.Options{DataDir: dir, DatabaseURL: dsn})
	if err != nil {
		return nil, 0, err
	}
	defer srv.Close()
	began := time.Now()
	words, err := seedDirectory(ctx, srv.Store(), o)
	if err != nil {
		return nil, 0, fmt.Errorf("seed %s: %w", eng, err)
	}
	// What autovacuum (PostgreSQL) or the server's hourly PRAGMA optimize
	// (SQLite) does soon after a bulk load.
	if err := srv.Store().Optimize(ctx); err != nil {
		return nil, 0, err
	}
	seedTime := time.Since(began)
	rng := rand.New(rand.NewPCG(o.seed, 2))
	queries := []struct {
		name string
		url  func() string
	}{
		{"home: live by viewers", func() string { return "/api/v1/channels?live=true&limit=24" }},
		{"category page (music)", func() string { return "/api/v1/channels?category=music&limit=24" }},
		{"search (random word)", func() string { return "/api/v1/channels?limit=24&q=" + url.QueryEscape(words[rng.IntN(len(words))]) }},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var out []queryResult
	for _, q := range queries {
		r, err := timeQuery(ctx, client, srv.HTTP, q.url, o)
		if err != nil {
			return nil, 0, fmt.Errorf("%s %s: %w", eng, q.name, err)
		}
		r.name = q.name
		out = append(out, r)
	}
	return out, seedTime, nil
}

func timeQuery(ctx context.Context, client *http.Client, base string, path func() string, o directoryOptions) (queryResult, error) {
	var lat []time.Duration
	var r queryResult
	for i := range o.warmup + o.requests {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path(), nil)
		if err != nil {
			return r, err
		}
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return r, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t0)
		if err != nil || res.StatusCode != 200 {
			return r, fmt.Errorf("status %d: %s", res.StatusCode, body)
		}
		if i >= o.warmup {
			lat = append(lat, d)
			r.items = max(r.items, strings.Count(string(body), `"slug"`))
		}
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	r.p50, r.p90, r.p99, r.max = at(0.50), at(0.90), at(0.99), lat[len(lat)-1]
	return r, nil
}

// seedDirectory makes the synthetic channels and puts o.live of them on the
// air with viewers drawn from a long-tailed distribution. It returns the
// vocabulary the titles and tags use.
func seedDirectory(ctx context.Context, st *store.Store, o directoryOptions) ([]string, error) {
	rng := rand.New(rand.NewPCG(o.seed, 1))
	words := make([]string, 300)
	for i := range words {
		words[i] = fmt.Sprintf("%s%d", []string{"jazz", "chess", "cook", "yoga", "retro", "speed", "lofi", "craft", "indie", "talk"}[i%10], i)
	}
	// A precomputed hash: seeding measures the directory, not argon2.
	const hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$0000000000000000000000000000000000000000000"
	owners := make([]string, o.users)
	for i := range owners {
		u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("owner%d@bench.example", i), DisplayName: fmt.Sprintf("Owner %d", i), PasswordHash: hash})
		if err != nil {
			return nil, err
		}
		owners[i] = u.ID
	}
	cats := store.Categories()
	type job struct {
		i       int
		profile store.Profile
		owner   string
	}
	jobs := make(chan job)
	ids := make([]string, o.channels)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for j := range jobs {
				ch, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: fmt.Sprintf("bench-%05d", j.i), OwnerID: j.owner, Profile: j.profile})
				if err != nil {
					errs <- err
					for range jobs {
					}
					return
				}
				ids[j.i] = ch.ID
			}
		})
	}
	for i := range o.channels {
		pick := func() string { return words[rng.IntN(len(words))] }
		p := store.Profile{
			DisplayName: fmt.Sprintf("Channel %d %s", i, pick()),
			Category:    cats[i%len(cats)].Slug,
			Title:       fmt.Sprintf("%s and %s with %s", pick(), pick(), pick()),
			Tags:        []string{pick(), pick(), pick()}[:1+rng.IntN(3)],
			Language:    []string{"en", "fr", "de", "pt-br", "ja"}[rng.IntN(5)],
		}
		jobs <- job{i: i, profile: p, owner: owners[rng.IntN(len(owners))]}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	live := rng.Perm(o.channels)[:o.live]
	var samples []store.ViewerSample
	for _, i := range live {
		sess, err := st.StartSession(ctx, ids[i], fmt.Sprintf("bench%d", i), "[]", time.Now())
		if err != nil {
			return nil, err
		}
		v := int(1000 / (1 + rng.ExpFloat64()*20)) // long tail: a few big channels
		samples = append(samples, store.ViewerSample{SessionID: sess.ID, Viewers: v, PeakViewers: v})
	}
	return words, st.RecordViewers(ctx, samples)
}

// load1 is the 1-minute load average, or "?" where /proc is missing.
func load1() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
