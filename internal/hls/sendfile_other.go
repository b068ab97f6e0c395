//go:build !linux

package hls

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"
)

// blob is Linux's memfd segment store; elsewhere the origin writes media
// from memory, and newBlob makes none (nor an error to log: that is normal).
type blob struct{}

func newBlob() (*blob, error) { return nil, nil }

func (b *blob) append([]byte) (int64, error) { return 0, errors.New("memfd segments need Linux") }
func (b *blob) reader(chan struct{}) (*os.File, error) {
	return nil, errors.New("memfd segments need Linux")
}
func (b *blob) put(*os.File) {}
func (b *blob) close()       {}

// ConnContext is a no-op off Linux; see the Linux version.
func ConnContext(ctx context.Context, _ net.Conn) context.Context { return ctx }

func canSendfile(http.ResponseWriter, *http.Request) (syscall.RawConn, bool) { return nil, false }

func sendRange(http.ResponseWriter, syscall.RawConn, *os.File, int64, int64, []byte) bool {
	return false
}
