package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livehouse/livehouse/internal/livetest"
	"github.com/livehouse/livehouse/internal/store"
)

// node is one `livehouse serve` process of a cluster.
type node struct {
	cmd  *exec.Cmd
	base string
	logs *logBuffer
}

func startNode(t *testing.T, bin, dsn, natsURL string) *node {
	t.Helper()
	httpAddr, rtmpAddr := freePort(t), freePort(t)
	n := &node{base: "http://" + httpAddr, logs: &logBuffer{}}
	n.cmd = exec.Command(bin, "serve", "--data", t.TempDir(), "--http-addr", httpAddr, "--rtmp-addr", rtmpAddr,
		"--database-url", dsn, "--nats-url", natsURL, "--log-level", "info")
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			n.cmd.Process.Kill()
			t.Errorf("node %s did not stop on SIGTERM", n.base)
		}
		if t.Failed() {
			t.Logf("node %s log:\n%s", n.base, tail(n.logs.String(), 3000))
		}
	})
	waitFor(t, 20*time.Second, "node "+n.base, func() bool {
		resp, err := http.Get(n.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return n
}

// member is a chat client connected to one node.
type member struct {
	t    *testing.T
	conn *websocket.Conn
	mu   sync.Mutex
	seen []map[string]any
	ref  int
}

func joinNode(t *testing.T, n *node, slug, token string) *member {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	h.Set("Cookie", "lh_session="+token)
	conn, _, err := websocket.Dial(ctx, strings.Replace(n.base, "http", "ws", 1)+"/api/v1/channels/"+slug+"/chat",
		&websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("join %s: %v", n.base, err)
	}
	conn.SetReadLimit(16 << 20)
	m := &member{t: t, conn: conn}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var objs []map[string]any
			json.Unmarshal(data, &objs)
			m.mu.Lock()
			m.seen = append(m.seen, objs...)
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return m
}

func (m *member) send(cmd map[string]any) string {
	m.mu.Lock()
	m.ref++
	ref := fmt.Sprintf("r%d", m.ref)
	m.mu.Unlock()
	cmd["ref"] = ref
	b, _ := json.Marshal(cmd)
	if err := m.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		m.t.Fatal(err)
	}
	return ref
}

// wait returns the first object seen that matches pred.
func (m *member) wait(what string, pred func(map[string]any) bool) map[string]any {
	m.t.Helper()
	var found map[string]any
	waitFor(m.t, 10*time.Second, what, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, o := range m.seen {
			if pred(o) {
				found = o
				return true
			}
		}
		return false
	})
	return found
}

// sequenced returns the sequenced events seen, as "seq type text" lines.
func (m *member) sequenced(kinds ...string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, o := range m.seen {
		if o["seq"] == nil || !contains(kinds, o["type"].(string)) {
			continue
		}
		out = append(out, fmt.Sprintf("%v %v %v %v", o["seq"], o["type"], o["text"], o["target"]))
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestTwoNodesShareOneRoomOverPostgresAndNATS runs two `livehouse serve`
// processes on one PostgreSQL database and the machine's NATS server. Users
// on either node see each other's messages, votes and moderator actions in
// the same order with the same sequence numbers.
func TestTwoNodesShareOneRoomOverPostgresAndNATS(t *testing.T) {
	pgURL, natsURL := os.Getenv("LIVEHOUSE_TEST_POSTGRES_URL"), os.Getenv("LIVEHOUSE_TEST_NATS_URL")
	if pgURL == "" || natsURL == "" {
		t.Skip("cluster test skipped: set LIVEHOUSE_TEST_POSTGRES_URL and LIVEHOUSE_TEST_NATS_URL (.ci/run does)")
	}
	dsn, drop, err := livetest.PostgresSchema(t.Context(), pgURL, "livehouse_cluster")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	bin := filepath.Join(t.TempDir(), "livehouse")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/livehouse").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	a := startNode(t, bin, dsn, natsURL)
	b := startNode(t, bin, dsn, natsURL) // after a: migrations ran once

	st, err := store.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	token := func(name string) (store.User, string) {
		u, err := st.CreateUser(t.Context(), store.NewUser{Email: name + "@example.com", DisplayName: name, PasswordHash: "x", Role: store.RoleCreator})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := st.CreateAuthSession(t.Context(), u.ID, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return u, tok
	}
	owner, ownerTok := token("owner")
	viewer, viewerTok := token("viewer")
	_, thirdTok := token("third")
	if _, _, err := st.CreateChannelWith(t.Context(), store.NewChannel{Slug: "shared", OwnerID: owner.ID}); err != nil {
		t.Fatal(err)
	}

	onA := joinNode(t, a, "shared", ownerTok)
	onB := joinNode(t, b, "shared", viewerTok)
	thirdA := joinNode(t, a, "shared", thirdTok)
	for _, m := range []*member{onA, onB, thirdA} {
		m.wait("welcome", func(o map[string]any) bool { return o["type"] == "welcome" })
	}
	for i := 0; i < 4; i++ {
		onA.send(map[string]any{"type": "send", "text": fmt.Sprintf("from A %d", i)})
		onB.send(map[string]any{"type": "send", "text": fmt.Sprintf("from B %d", i)})
	}
	rude := onB.send(map[string]any{"type": "send", "text": "rude"})
	ack := onB.wait("ack of rude", func(o map[string]any) bool { return o["ref"] == rude })
	if ack["type"] != "ack" {
		t.Fatalf("send = %v", ack)
	}
	onA.wait("rude on A", func(o map[string]any) bool { return o["text"] == "rude" })
	onA.send(map[string]any{"type": "delete", "seq": ack["seq"]})
	onB.wait("delete on B", func(o map[string]any) bool { return o["type"] == "chat.delete" && o["target"] == ack["seq"] })

	open := onA.send(map[string]any{"type": "poll.open", "question": "Which node?", "options": []string{"A", "B"}, "seconds": 30})
	poll := onA.wait("poll opened", func(o map[string]any) bool { return o["ref"] == open })
	if poll["type"] != "ack" {
		t.Fatalf("poll.open = %v", poll)
	}
	onB.wait("poll on B", func(o map[string]any) bool { return o["type"] == "poll.open" })
	onB.send(map[string]any{"type": "poll.vote", "poll_id": poll["id"], "option": 1})
	thirdA.send(map[string]any{"type": "poll.vote", "poll_id": poll["id"], "option": 1})
	onA.wait("both votes in A's tally", func(o map[string]any) bool {
		p, _ := o["poll"].(map[string]any)
		return o["type"] == "poll.tally" && p["total"] == 2.0
	})
	onA.send(map[string]any{"type": "poll.close", "poll_id": poll["id"]})
	for _, m := range []*member{onB, thirdA} {
		res := m.wait("final result", func(o map[string]any) bool { return o["type"] == "poll.close" })
		if p := res["poll"].(map[string]any); fmt.Sprint(p["counts"]) != "[0 2]" {
			t.Errorf("final counts = %v, want [0 2]", p["counts"])
		}
	}

	kinds := []string{"chat", "chat.delete", "poll.open", "poll.close"}
	waitFor(t, 10*time.Second, "every event on both nodes", func() bool {
		return len(onA.sequenced(kinds...)) == 12 && len(onB.sequenced(kinds...)) == 12 && len(thirdA.sequenced(kinds...)) == 12
	})
	ea, eb := onA.sequenced(kinds...), onB.sequenced(kinds...)
	if strings.Join(ea, "\n") != strings.Join(eb, "\n") {
		t.Errorf("the nodes disagree:\nA:\n%s\nB:\n%s", strings.Join(ea, "\n"), strings.Join(eb, "\n"))
	}
	_ = viewer
}
