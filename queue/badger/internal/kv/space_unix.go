//go:build unix

package kv

import (
	"os"
	"syscall"
)

// allocated is the disk space a file occupies: its blocks where the platform reports them,
// else its length.
func allocated(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Blocks) * 512
	}
	return uint64(fi.Size())
}
