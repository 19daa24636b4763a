//go:build !race

package jstest

// raceEnabled: the race detector is off.
const raceEnabled = false
