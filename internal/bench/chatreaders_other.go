//go:build !linux

package bench

import (
	"context"
	"errors"
	"io"
)

// rawReadersSupported is false off Linux: the chat benchmark's clients are
// goroutines with a WebSocket library there.
func rawReadersSupported() bool { return false }

func chatClientsRaw(context.Context, []string, int, io.Writer) error {
	return errors.New("epoll chat readers need Linux")
}
