package rtmp

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge received data at once instead of
// delaying the ACK by up to 40 ms. Publishers such as ffmpeg leave Nagle's
// algorithm on, so each pair of small writes during the RTMP setup otherwise
// waits for our delayed ACK. The kernel drops the flag again on its own, so
// it is re-armed before each read during the setup. This
// cut accept-to-Begin for ffmpeg from ~200 ms to ~30 ms.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
