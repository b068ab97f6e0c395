package transcode

import "syscall"

// childAttr makes the kernel kill ffmpeg if the server dies without
// stopping it (SIGKILL, a crash), so that no orphan keeps encoding.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
