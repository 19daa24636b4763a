package jstest

import "syscall"

// dieWithParent has a child-process server killed when the test process ends, a timed-out
// one included, instead of living on and loading the machine (Linux sends the signal when
// the thread that started the child exits, which the Go runtime does only for threads a
// goroutine locked and left locked; the tests lock none).
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
