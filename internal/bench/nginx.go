package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// staticNginxConf serves a directory of files the way a tuned static file
// server does: sendfile, keep-alive without a request cap, no access log. It
// is the origin benchmark's baseline for the cost of moving a part's bytes
// on this machine, apart from anything Livehouse does.
const staticNginxConf = `daemon off;
master_process on;
worker_processes {{workers}};
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    open_file_cache max=64 inactive=60s;
    client_body_temp_path {{dir}}/client_body;
    proxy_temp_path {{dir}}/proxy_temp;
    fastcgi_temp_path {{dir}}/fastcgi_temp;
    uwsgi_temp_path {{dir}}/uwsgi_temp;
    scgi_temp_path {{dir}}/scgi_temp;
    types { video/mp4 m4s; application/vnd.apple.mpegurl m3u8; }
    server {
        listen {{listen}};
        root {{dir}}/files;
    }
}
`

// staticNginx is an nginx child process serving files from a directory.
type staticNginx struct {
	URL   string
	dir   string
	cmd   *exec.Cmd
	done  chan error
	files int
}

// startStaticNginx starts nginx with workers worker processes, serving an
// empty directory; put adds files to it.
func startStaticNginx(ctx context.Context, bin string, workers int) (*staticNginx, error) {
	dir, err := os.MkdirTemp("", "livehouse-bench-nginx-")
	if err != nil {
		return nil, err
	}
	// The workers run as an unprivileged user and must reach the files.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, "files"), 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	listen := l.Addr().String()
	l.Close()
	conf := strings.NewReplacer("{{dir}}", dir, "{{listen}}", listen,
		"{{workers}}", fmt.Sprint(workers)).Replace(staticNginxConf)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	// The master stops its workers on SIGTERM; a kill would orphan them.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bench origin: start nginx: %w", err)
	}
	n := &staticNginx{URL: "http://" + listen, dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait() }()
	if err := waitListening(listen, n.done, 5*time.Second); err != nil {
		n.close()
		return nil, fmt.Errorf("bench origin: nginx %w: %s", err, stderr.String())
	}
	return n, nil
}

// waitListening waits until a child process started with done (which gets
// its exit) accepts connections on addr. An exit stays in done for close.
func waitListening(addr string, done chan error, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); ; {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("exited at start: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("did not listen on %s", addr)
		}
	}
}

// stopChild asks a child process started with done (which gets its exit)
// to stop with SIGTERM, and kills it if it has not exited within 5 s.
func stopChild(cmd *exec.Cmd, done chan error) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// put writes a new file for nginx to serve and returns its URL. Each file
// gets a new name: rewriting one in place could cut short a response that
// nginx's open file cache still serves from it.
func (n *staticNginx) put(name string, body []byte) (string, error) {
	n.files++
	name = fmt.Sprintf("%d-%s", n.files, name)
	if err := os.WriteFile(filepath.Join(n.dir, "files", name), body, 0o644); err != nil {
		return "", err
	}
	return n.URL + "/" + name, nil
}

// cpu is the CPU time nginx's master and workers have used, read from
// /proc (in clock ticks of 10 ms, Linux's USER_HZ).
func (n *staticNginx) cpu() time.Duration {
	if n.cmd.Process == nil {
		return 0
	}
	master := n.cmd.Process.Pid
	pids := []int{master}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == master {
			continue
		}
		if ppid, _, ok := procStat(pid); ok && ppid == master {
			pids = append(pids, pid)
		}
	}
	var ticks int64
	for _, pid := range pids {
		if _, t, ok := procStat(pid); ok {
			ticks += t
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// procStat returns a process's parent and its user plus system CPU ticks.
func procStat(pid int) (ppid int, ticks int64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // state ppid ... utime(12) stime(13)
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, ut + st, true
}

func (n *staticNginx) close() {
	stopChild(n.cmd, n.done)
	os.RemoveAll(n.dir)
}
