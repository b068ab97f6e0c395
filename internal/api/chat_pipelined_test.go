package api_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestChatFrameSentWithTheUpgradeRequestIsRead: a client may send its
// first frame right behind the upgrade request, before it has read the
// 101 (here in the same TCP write, so the server has buffered the frame
// before it hijacks the connection). The frame must be read, not dropped
// or misaligned: dropping it lost a broadcaster's poll.open under load and
// left the rest of the stream unparseable ("unexpected rsv bits").
func TestChatFrameSentWithTheUpgradeRequestIsRead(t *testing.T) {
	ts := start(t, "")
	owner := ts.signUp(t, "pipelined@example.com")
	owner.createChannel(t, "pipelined", "music")

	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	var out bytes.Buffer
	host := strings.TrimPrefix(ts.base, "http://")
	out.WriteString("GET /api/v1/channels/pipelined/chat HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: " + ts.base + "\r\n\r\n")
	for _, cmd := range []string{`{"type":"ping","ref":"first"}`, `{"type":"ping","ref":"second"}`} {
		mask := [4]byte{0x11, 0x22, 0x33, 0x44}
		out.Write([]byte{0x81, 0x80 | byte(len(cmd))})
		out.Write(mask[:])
		for i := range len(cmd) {
			out.WriteByte(cmd[i] ^ mask[i%4])
		}
	}
	if _, err := conn.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	var got []string
	for len(got) < 2 {
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			io.ReadFull(br, b[:]) //nolint:errcheck
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			io.ReadFull(br, b[:]) //nolint:errcheck
			n = binary.BigEndian.Uint64(b[:])
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatal(err)
		}
		if op := hdr[0] & 0x0f; op == 0x8 {
			t.Fatalf("the server closed the socket (%q) after %v", payload, got)
		}
		for _, ref := range []string{"first", "second"} {
			if bytes.Contains(payload, []byte(`"type":"pong"`)) && bytes.Contains(payload, []byte(`"ref":"`+ref+`"`)) {
				got = append(got, ref)
			}
		}
	}
	if got[0] != "first" || got[1] != "second" {
		t.Errorf("pongs %v, want first then second", got)
	}
}
