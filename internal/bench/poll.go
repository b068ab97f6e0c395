package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/account"
	"github.com/livehouse/livehouse/internal/server"
	"github.com/livehouse/livehouse/internal/store"
)

// Poll measures a poll with many voters: every voter is a signed-in
// WebSocket client (in a child process) that votes once at a random moment
// of the voting window. It reports how many votes were counted (each must
// be, exactly once) and how long after the last vote every client saw the
// complete live tally.
func Poll(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench poll", flag.ContinueOnError)
	voters := fs.Int("voters", 10000, "signed-in voters, one WebSocket each")
	window := fs.Duration("window", 10*time.Second, "voters vote at random moments within this window")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Every voter connects from 127.0.0.1 here, so the per-address budget
	// (meant for one household, not a whole audience) is lifted too.
	srv, stop, err := startRoomServer(ctx, server.Config{ChatPerIP: account.Rate{Burst: 1 << 30, Every: time.Nanosecond}})
	if err != nil {
		return err
	}
	defer stop()
	dir, err := os.MkdirTemp("", "livehouse-bench-poll-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st := srv.Store()
	fmt.Fprintf(out, "# livehouse bench poll -voters %d -window %s\n\n", *voters, *window)
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, load average %s at start; server and voters share the CPUs\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAverage())
	t0 := time.Now()
	owner, ownerTok, err := benchUser(ctx, st, "owner", store.RoleCreator)
	if err != nil {
		return err
	}
	ch, _, err := st.CreateChannelWith(ctx, store.NewChannel{Slug: "pollroom", OwnerID: owner.ID})
	if err != nil {
		return err
	}
	tokens := make([]string, *voters)
	for i := range tokens {
		if _, tokens[i], err = benchUser(ctx, st, fmt.Sprintf("voter%d", i), store.RoleViewer); err != nil {
			return err
		}
	}
	tokFile := dir + "/tokens"
	if err := os.WriteFile(tokFile, []byte(strings.Join(tokens, "\n")), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d accounts signed in (%.1f s)\n", *voters, time.Since(t0).Seconds())
	wsURL := "ws://" + srv.HTTPAddr() + "/api/v1/channels/pollroom/chat"
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.CommandContext(ctx, self, "bench", "poll-voters", "-url", wsURL, "-tokens", tokFile,
		"-window", window.String())
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		return err
	}
	defer child.Process.Kill()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	t1 := time.Now()
	if !lines.Scan() || lines.Text() != "ready" {
		return fmt.Errorf("the voters did not connect: %q", lines.Text())
	}
	fmt.Fprintf(out, "%d voters connected (%.1f s)\n", *voters, time.Since(t1).Seconds())

	host, err := dialChat(ctx, wsURL, ownerTok)
	if err != nil {
		return err
	}
	defer host.CloseNow()
	secs := int(window.Seconds()) + 60
	if err := host.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(
		`{"type":"poll.open","question":"Which one?","options":["A","B","C","D"],"seconds":%d}`, secs))); err != nil {
		return err
	}
	go func() {
		for {
			if _, _, err := host.Read(ctx); err != nil {
				return
			}
		}
	}()
	if !lines.Scan() {
		return errors.New("the voters sent no report")
	}
	var rep pollReport
	if err := json.Unmarshal(lines.Bytes(), &rep); err != nil {
		return fmt.Errorf("voters' report %q: %w", lines.Text(), err)
	}
	stdin.Close()
	child.Wait()
	ids, err := st.OpenPollIDs(ctx, ch.ID)
	if err != nil || len(ids) != 1 {
		return fmt.Errorf("open polls: %v %v", ids, err)
	}
	tally, err := st.PollTally(ctx, ids[0], 4)
	if err != nil {
		return err
	}
	var stored int64
	for _, n := range tally {
		stored += n
	}
	fmt.Fprintf(out, "\n| measure | value |\n|---|---|\n")
	fmt.Fprintf(out, "| votes sent / acknowledged / refused | %d / %d / %d |\n", rep.Sent, rep.Acked, rep.Refused)
	fmt.Fprintf(out, "| votes in the store | %d (%v per option) |\n", stored, tally)
	fmt.Fprintf(out, "| sum of the voters' own choices | %v |\n", rep.Choices)
	fmt.Fprintf(out, "| clients that saw the complete live tally | %d of %d |\n", rep.SawFinal, *voters)
	fmt.Fprintf(out, "| last vote → complete tally at every client: p50 / p99 / max | %.0f / %.0f / %.0f ms |\n", rep.P50, rep.P99, rep.Max)
	fmt.Fprintf(out, "| voter process CPU | %.2f cores |\n", rep.CPU)
	ok := stored == int64(*voters) && rep.Acked == int64(*voters) && fmt.Sprint(tally) == fmt.Sprint(rep.Choices)
	fmt.Fprintf(out, "\nevery vote counted exactly once: %v\nload average at the end: %s\n", ok, loadAverage())
	if !ok {
		return errors.New("bench poll: the counts disagree")
	}
	return nil
}

type pollReport struct {
	Sent, Acked, Refused, SawFinal int64
	Choices                        []int64
	P50, P99, Max                  float64
	CPU                            float64
}

// PollVoters is the voter process of the poll benchmark.
func PollVoters(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench poll-voters", flag.ContinueOnError)
	url := fs.String("url", "", "the room's WebSocket URL")
	tokFile := fs.String("tokens", "", "file of session tokens, one per line")
	window := fs.Duration("window", 10*time.Second, "voting window")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*tokFile)
	if err != nil {
		return err
	}
	tokens := strings.Split(string(raw), "\n")
	n := len(tokens)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		sent, acked, refused, sawFinal atomic.Int64
		choices                        [4]atomic.Int64
		lastVote                       atomic.Int64 // unix ns
		mu                             sync.Mutex
		finalAt                        []int64
		wg, done                       sync.WaitGroup
	)
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 100)
	done.Add(n)
	for i, tok := range tokens {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialChat(ctx, *url, tok)
			<-sem
			if err != nil {
				done.Done()
				return
			}
			conns[i] = c
			go func() {
				defer done.Done()
				voted, final := false, false
				for {
					_, data, err := c.Read(ctx)
					if err != nil {
						return
					}
					var objs []struct {
						Type string `json:"type"`
						Ref  string `json:"ref"`
						ID   string `json:"id"`
						Poll *struct {
							ID    string `json:"id"`
							Total int64  `json:"total"`
						} `json:"poll"`
					}
					if json.Unmarshal(data, &objs) != nil {
						continue
					}
					for _, o := range objs {
						switch {
						case o.Type == "poll.open" && !voted && o.Poll != nil:
							voted = true
							opt := rand.IntN(4)
							pollID := o.Poll.ID
							time.AfterFunc(time.Duration(rand.Int64N(int64(*window))), func() {
								msg := `{"type":"poll.vote","ref":"v","poll_id":"` + pollID + `","option":` + strconv.Itoa(opt) + `}`
								now := time.Now().UnixNano()
								if c.Write(ctx, websocket.MessageText, []byte(msg)) == nil {
									sent.Add(1)
									choices[opt].Add(1)
									for {
										old := lastVote.Load()
										if now <= old || lastVote.CompareAndSwap(old, now) {
											break
										}
									}
								}
							})
						case o.Ref == "v" && o.Type == "ack":
							acked.Add(1)
						case o.Ref == "v" && o.Type == "error":
							refused.Add(1)
						case o.Type == "poll.tally" && o.Poll != nil && o.Poll.Total == int64(n) && !final:
							final = true
							sawFinal.Add(1)
							mu.Lock()
							finalAt = append(finalAt, time.Now().UnixNano())
							mu.Unlock()
							return
						}
					}
				}
			}()
		}()
	}
	wg.Wait()
	cpu0, wall0 := processCPU(), time.Now()
	fmt.Fprintln(out, "ready")
	// Wait for every client to see the complete tally, or give up.
	waited := make(chan struct{})
	go func() { done.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(*window + 30*time.Second):
	}
	cpu := (processCPU() - cpu0).Seconds() / time.Since(wall0).Seconds()
	rep := pollReport{Sent: sent.Load(), Acked: acked.Load(), Refused: refused.Load(), SawFinal: sawFinal.Load(), CPU: cpu}
	for i := range choices {
		rep.Choices = append(rep.Choices, choices[i].Load())
	}
	mu.Lock()
	last := lastVote.Load()
	lat := make([]float64, 0, len(finalAt))
	for _, t := range finalAt {
		lat = append(lat, float64(t-last)/1e6)
	}
	mu.Unlock()
	sort.Float64s(lat)
	if len(lat) > 0 {
		rep.P50, rep.P99, rep.Max = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1]
	}
	b, _ := json.Marshal(rep)
	fmt.Fprintln(out, string(b))
	cancel()
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
	io.Copy(io.Discard, os.Stdin)
	return nil
}
