//go:build !(linux || darwin || freebsd)

package gateway

import (
	"errors"
	"fmt"
)

// StatFS is the default FreeSpaceFunc; on this platform it cannot measure, so the
// storage_full guard lets writes through (and says so once in the log).
func StatFS(dir string) (free, total uint64, err error) {
	return 0, 0, fmt.Errorf("free space of %s: %w", dir, errors.ErrUnsupported)
}
