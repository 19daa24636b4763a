//go:build !unix

package kv

import "os"

// allocated is the disk space a file occupies; without block counts, its length.
func allocated(fi os.FileInfo) uint64 { return uint64(fi.Size()) }
