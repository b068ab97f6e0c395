package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/server"
	"github.com/livehouse/livehouse/internal/store"
)

// Chat measures room broadcast: many WebSocket clients in one room while a
// sender posts at a fixed rate. The server runs in this process; the
// clients run in a child process (`livehouse bench chat-clients`), since one
// process may not hold both ends of 10,000 sockets here. Each message carries
// its send time; the clients report send-to-receive latency.
func Chat(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench chat", flag.ContinueOnError)
	o := chatOptions{}
	fs.IntVar(&o.clients, "clients", 10000, "WebSocket clients in the room")
	fs.IntVar(&o.rate, "rate", 50, "messages per second sent to the room")
	fs.DurationVar(&o.dur, "duration", 20*time.Second, "how long to send")
	fs.DurationVar(&o.linger, "linger", 0, "the room's frame batching window (0: the server default)")
	fs.DurationVar(&o.maxLinger, "max-linger", 0, "the batching window of a 10,000-client room (0: the server default)")
	fs.StringVar(&o.profile, "cpuprofile", "", "write the server's CPU profile while sending to this file")
	fs.StringVar(&o.heapProfile, "memprofile", "", "write the server's heap profile with every client idle to this file")
	nodes := fs.Int("nodes", 1, "1: one node on SQLite; 2: the clients spread over two nodes on PostgreSQL and NATS, "+
		"measured against one node on the same PostgreSQL")
	pg := fs.String("postgres-url", firstEnv("LIVEHOUSE_BENCH_POSTGRES_URL", "LIVEHOUSE_TEST_POSTGRES_URL"), "PostgreSQL for -nodes 2")
	natsURL := fs.String("nats-url", firstEnv("LIVEHOUSE_BENCH_NATS_URL", "LIVEHOUSE_TEST_NATS_URL"), "NATS for -nodes 2")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(out, "# livehouse bench chat %s\n\n", strings.Join(args, " "))
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, load average %s at start; server, clients and sender share the CPUs\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAverage())
	if *nodes == 1 {
		_, err := runChat(ctx, o, []server.Config{{}}, out)
		return err
	}
	if *nodes != 2 || *pg == "" || *natsURL == "" {
		return errors.New("bench chat -nodes 2 needs -postgres-url and -nats-url (or LIVEHOUSE_TEST_POSTGRES_URL and LIVEHOUSE_TEST_NATS_URL)")
	}
	var res [2]chatReport
	for i, n := range []int{1, 2} {
		dsn, drop, err := livetest.PostgresSchema(ctx, *pg, "livehouse_bench")
		if err != nil {
			return err
		}
		cfgs := []server.Config{{DatabaseURL: dsn}}
		oo := o
		if n == 2 {
			cfgs = []server.Config{{DatabaseURL: dsn, NATSURL: *natsURL}, {DatabaseURL: dsn, NATSURL: *natsURL}}
			// Both nodes share this machine's CPUs, so each batches as a room
			// of all the clients would: the same frame writes in total.
			if oo.maxLinger == 0 {
				oo.maxLinger = 200 * time.Millisecond
			}
			oo.maxLinger *= 2
		}
		fmt.Fprintf(out, "## %d node(s), PostgreSQL%s\n\n", n, map[bool]string{true: " + NATS", false: ""}[n == 2])
		res[i], err = runChat(ctx, oo, cfgs, out)
		drop()
		if err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "added by spreading over two nodes: p50 %+.0f ms, p99 %+.0f ms\n", res[1].P50-res[0].P50, res[1].P99-res[0].P99)
	return nil
}

type chatOptions struct {
	clients, rate     int
	dur               time.Duration
	linger, maxLinger time.Duration
	profile           string
	heapProfile       string
}

// runChat starts one server per config (the first is the sender's), spreads
// the clients over them, sends, and prints the figures.
func runChat(ctx context.Context, o chatOptions, cfgs []server.Config, out io.Writer) (chatReport, error) {
	var urls []string
	var first *server.Server
	for i, cfg := range cfgs {
		cfg.ChatLinger, cfg.ChatMaxLinger = o.linger, o.maxLinger
		srv, stop, err := startRoomServer(ctx, cfg)
		if err != nil {
			return chatReport{}, err
		}
		defer stop()
		if i == 0 {
			first = srv
		}
		urls = append(urls, "ws://"+srv.HTTPAddr()+"/api/v1/channels/benchroom/chat")
	}
	st := first.Store()
	owner, token, err := benchUser(ctx, st, "bench", store.RoleCreator)
	if err != nil {
		return chatReport{}, err
	}
	if _, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "benchroom", OwnerID: owner.ID}); err != nil {
		return chatReport{}, err
	}
	settleMemory()
	rss0 := processRSS()
	self, err := os.Executable()
	if err != nil {
		return chatReport{}, err
	}
	child := exec.CommandContext(ctx, self, "bench", "chat-clients", "-url", strings.Join(urls, ","), "-clients", strconv.Itoa(o.clients))
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		return chatReport{}, fmt.Errorf("start the client process: %w", err)
	}
	defer child.Process.Kill()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	t0 := time.Now()
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "ready") {
		return chatReport{}, fmt.Errorf("the client process did not connect its clients: %q", lines.Text())
	}
	fmt.Fprintf(out, "%d clients connected over %d node(s) in %.1f s\n", o.clients, len(urls), time.Since(t0).Seconds())
	time.Sleep(2 * time.Second)
	settleMemory()
	rss1 := processRSS()
	perConn := float64(int64(rss1)-int64(rss0)) / float64(o.clients)
	if o.heapProfile != "" {
		f, err := os.Create(o.heapProfile)
		if err != nil {
			return chatReport{}, err
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	fmt.Fprintf(out, "server RSS: %.0f MiB before, %.0f MiB with every client idle: %.1f KiB per idle connection\n",
		float64(rss0)/(1<<20), float64(rss1)/(1<<20), perConn/1024)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(out, "Go memory with the clients idle: heap in use %.0f MiB, goroutine stacks %.0f MiB, goroutines %d\n",
		float64(ms.HeapInuse)/(1<<20), float64(ms.StackInuse)/(1<<20), runtime.NumGoroutine())

	sender, err := dialChat(ctx, urls[0], token)
	if err != nil {
		return chatReport{}, err
	}
	defer sender.CloseNow()
	go func() { // the sender's own copies are not measured
		for {
			if _, _, err := sender.Read(ctx); err != nil {
				return
			}
		}
	}()
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return chatReport{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return chatReport{}, err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, wall0 := processCPU(), time.Now()
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	sent := 0
	for end := time.Now().Add(o.dur); time.Now().Before(end); {
		<-tick.C
		msg := fmt.Sprintf(`{"type":"send","text":"t=%d"}`, time.Now().UnixNano())
		if err := sender.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			return chatReport{}, fmt.Errorf("send: %w", err)
		}
		sent++
	}
	tick.Stop()
	time.Sleep(time.Second)
	cpu := (processCPU() - cpu0).Seconds() / time.Since(wall0).Seconds()
	rss2 := processRSS()
	stdin.Close() // the clients report and exit
	if !lines.Scan() {
		return chatReport{}, errors.New("the client process sent no report")
	}
	var rep chatReport
	if err := json.Unmarshal(lines.Bytes(), &rep); err != nil {
		return chatReport{}, fmt.Errorf("client report %q: %w", lines.Text(), err)
	}
	child.Wait()
	want := int64(sent) * int64(o.clients)
	fmt.Fprintf(out, "\n| measure | value |\n|---|---|\n")
	fmt.Fprintf(out, "| messages sent | %d (%d/s) |\n", sent, o.rate)
	fmt.Fprintf(out, "| deliveries | %d of %d (%.2f %%), %.0f per second |\n", rep.Received, want, 100*float64(rep.Received)/float64(max(want, 1)), float64(rep.Received)/o.dur.Seconds())
	fmt.Fprintf(out, "| send → receive p50 | %.1f ms |\n| p90 | %.1f ms |\n| p99 | %.1f ms |\n| max | %.1f ms |\n", rep.P50, rep.P90, rep.P99, rep.Max)
	fmt.Fprintf(out, "| frames received per client per second | %.1f |\n", float64(rep.Frames)/float64(o.clients)/o.dur.Seconds())
	fmt.Fprintf(out, "| server CPU while sending (all nodes) | %.2f cores |\n", cpu)
	fmt.Fprintf(out, "| client process CPU | %.2f cores |\n", rep.CPU)
	fmt.Fprintf(out, "| server RSS: idle clients / while sending | %.0f MiB / %.0f MiB |\n", float64(rss1)/(1<<20), float64(rss2)/(1<<20))
	if perConn > 0 {
		fmt.Fprintf(out, "| server RSS per idle connection | %.1f KiB |\n", perConn/1024)
	} else { // the process still held memory from an earlier run, and returned it meanwhile
		fmt.Fprintf(out, "| server RSS per idle connection | n/a (see the first run) |\n")
	}
	fmt.Fprintf(out, "| clients disconnected | %d |\n", rep.Dropped)
	fmt.Fprintf(out, "\nload average at the end: %s\n", loadAverage())
	return rep, nil
}

func dialChat(ctx context.Context, url, token string) (*websocket.Conn, error) {
	h := http.Header{}
	if token != "" {
		h.Set("Cookie", "lh_session="+token)
	}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(16 << 20)
	return c, nil
}

type chatReport struct {
	Received int64   `json:"received"`
	Frames   int64   `json:"frames"`
	Dropped  int64   `json:"dropped"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	CPU      float64 `json:"cpu_cores"`
}

// ChatClients is the client side of the chat benchmark: it connects
// anonymous readers, prints "ready", and on end of stdin prints a JSON report.
func ChatClients(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench chat-clients", flag.ContinueOnError)
	url := fs.String("url", "", "the room's WebSocket URL; a comma list spreads the clients over several nodes")
	n := fs.Int("clients", 10000, "clients")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		received, frames, dropped atomic.Int64
		mu                        sync.Mutex
		hist                      = make([]int64, 60_001) // per ms, up to a minute
	)
	conns := make([]*websocket.Conn, 0, *n)
	var cmu sync.Mutex
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	var dialErr atomic.Value
	urls := strings.Split(*url, ",")
	if rawReadersSupported() {
		return chatClientsRaw(ctx, urls, *n, out)
	}
	for i := 0; i < *n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialChat(ctx, urls[i%len(urls)], "")
			<-sem
			if err != nil {
				dialErr.Store(err)
				return
			}
			cmu.Lock()
			conns = append(conns, c)
			cmu.Unlock()
			go func() {
				local := map[int]int64{}
				var buf bytes.Buffer
				// Reads take a context that is never cancelled: with one,
				// coder/websocket arms a context.AfterFunc per frame, which
				// costs the client process CPU the server then lacks. The
				// connections are closed at the end, which ends the reads.
				for {
					_, rd, err := c.Reader(context.Background())
					if err == nil {
						buf.Reset()
						_, err = buf.ReadFrom(rd)
					}
					if err != nil {
						if ctx.Err() == nil {
							dropped.Add(1)
						}
						break
					}
					frames.Add(1)
					forEachSendTime(buf.Bytes(), time.Now().UnixNano(), func(ms int) {
						local[ms]++
						received.Add(1)
					})
					if len(local) > 64 {
						mu.Lock()
						for k, v := range local {
							hist[k] += v
						}
						mu.Unlock()
						clear(local)
					}
				}
				mu.Lock()
				for k, v := range local {
					hist[k] += v
				}
				mu.Unlock()
			}()
		}()
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	// Skip the welcome frames and any history.
	time.Sleep(time.Second)
	received.Store(0)
	frames.Store(0)
	mu.Lock()
	clear(hist)
	mu.Unlock()
	cpu0, wall0 := processCPU(), time.Now()
	fmt.Fprintln(out, "ready")
	io.Copy(io.Discard, os.Stdin)
	cpu := (processCPU() - cpu0).Seconds() / time.Since(wall0).Seconds()
	cancel()
	for _, c := range conns {
		c.CloseNow()
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	return writeChatReport(out, hist, chatReport{Received: received.Load(), Frames: frames.Load(), Dropped: dropped.Load(), CPU: cpu})
}

// forEachSendTime calls fn with the send → receive time in ms (clamped to a
// minute) of every benchmark message ("t=<unix ns>") in a frame.
func forEachSendTime(data []byte, now int64, fn func(ms int)) {
	for {
		i := bytes.Index(data, []byte(`"text":"t=`))
		if i < 0 {
			return
		}
		data = data[i+10:]
		j := bytes.IndexByte(data, '"')
		if j < 0 {
			return
		}
		if t, err := strconv.ParseInt(string(data[:j]), 10, 64); err == nil {
			fn(min(max(int((now-t)/1e6), 0), 60_000))
		}
	}
}

// writeChatReport adds the latency quantiles of hist to rep and prints it
// as the JSON line the benchmark reads.
func writeChatReport(out io.Writer, hist []int64, rep chatReport) error {
	var total int64
	for _, v := range hist {
		total += v
	}
	q := func(p float64) float64 {
		want := int64(p * float64(total))
		var acc int64
		for ms, v := range hist {
			acc += v
			if acc > want {
				return float64(ms)
			}
		}
		return 0
	}
	rep.P50, rep.P90, rep.P99 = q(0.50), q(0.90), q(0.99)
	for ms := len(hist) - 1; ms >= 0; ms-- {
		if hist[ms] > 0 {
			rep.Max = float64(ms)
			break
		}
	}
	b, _ := json.Marshal(rep)
	fmt.Fprintln(out, string(b))
	return nil
}

// settleMemory brings the heap to where a long-idle server keeps it: each
// GC halves goroutine stacks that use under a quarter of their size, and
// FreeOSMemory returns freed pages, so RSS counts what is live.
func settleMemory() {
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
}

// startRoomServer starts a server for the room benchmarks on loopback, in a
// temporary data directory, with the per-network chat connection budget
// lifted: every benchmark client connects from 127.0.0.1. stop closes it
// and removes the directory.
func startRoomServer(ctx context.Context, cfg server.Config) (*server.Server, func(), error) {
	dir, err := os.MkdirTemp("", "livehouse-bench-room-")
	if err != nil {
		return nil, nil, err
	}
	cfg.HTTPAddr, cfg.RTMPAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.ChatJoinLimit = account.Rate{Burst: 1 << 30, Every: time.Nanosecond}
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := server.New(ctx, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return srv, func() { srv.Close(); os.RemoveAll(dir) }, nil
}

// benchUser makes a signed-in account and returns its session token.
func benchUser(ctx context.Context, st *store.Store, name, role string) (store.User, string, error) {
	u, err := st.CreateUser(ctx, store.NewUser{Email: name + "@bench.example", DisplayName: name, PasswordHash: "x", Role: role})
	if err != nil {
		return u, "", err
	}
	tok, err := st.CreateAuthSession(ctx, u.ID, time.Now().Add(time.Hour))
	return u, tok, err
}
