//go:build !linux

package transcode

import "syscall"

// childAttr has nothing to add off Linux, which alone has Pdeathsig.
func childAttr() *syscall.SysProcAttr { return nil }
