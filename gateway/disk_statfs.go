//go:build linux || darwin || freebsd

package gateway

import (
	"fmt"
	"syscall"
)

// StatFS is the default FreeSpaceFunc: statfs(2) on dir, counting the blocks available to
// an unprivileged process (Bavail), which is where Badger's writes come from.
func StatFS(dir string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), uint64(st.Blocks) * uint64(st.Bsize), nil
}
