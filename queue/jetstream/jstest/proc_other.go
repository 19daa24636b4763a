//go:build !linux

package jstest

import "syscall"

// dieWithParent: only Linux can tie a child's life to its parent's; elsewhere a child
// process outlives a test process that is killed.
func dieWithParent() *syscall.SysProcAttr { return nil }
