//go:build race

package jstest

// raceEnabled: the race detector is on (see the package doc).
const raceEnabled = true
