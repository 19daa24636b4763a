package kv

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// Badger's cache-size advice is logged at debug; its other warnings and errors stay as they are.
func TestBadgerLoggerLevels(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Warningf("%s might be too small. Metrics: %s\n", "Block cache", "hit: 1 miss: 9")
	l.Warningf("Cache life expectancy (in seconds): %+v\n", "histogram")
	l.Warningf("Value log truncated: %d", 3)
	l.Errorf("compaction failed: %v", "disk")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var got []string
	for _, line := range lines {
		if i := strings.Index(line, "level="); i >= 0 {
			got = append(got, strings.Fields(line[i:])[0])
		}
	}
	want := []string{"level=DEBUG", "level=DEBUG", "level=WARN", "level=ERROR"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("levels = %v, want %v\n%s", got, want, buf.String())
	}
}
