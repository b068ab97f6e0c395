//go:build !linux

package rtmp

import "net"

// quickAck is a no-op where TCP_QUICKACK does not exist.
func quickAck(net.Conn) {}
