package gateway

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Schedule is the retry schedule: entry i is how long after the previous attempt failed the
// attempt i is made (entry 0, usually 0, is the delay of the first attempt). When every entry
// is used up the delivery has failed.
type Schedule []time.Duration

// DefaultSchedule is immediately, 5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 10 h: eight attempts over
// about 28 hours, as Svix and Stripe space theirs.
var DefaultSchedule = Schedule{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// ParseSchedule reads a comma-separated list of Go durations ("0s,5s,5m,30m").
func ParseSchedule(s string) (Schedule, error) {
	var out Schedule
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("retry schedule %q: %w", s, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("retry schedule %q: negative step %s", s, d)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("retry schedule %q: no steps", s)
	}
	return out, nil
}

// String writes the schedule back in ParseSchedule's format.
func (sc Schedule) String() string {
	parts := make([]string, len(sc))
	for i, d := range sc {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

// Delay returns the jittered wait before attempt step (±20%, so that a burst of failures
// doesn't retry in lockstep), and false when the schedule is used up.
func (sc Schedule) Delay(step int) (time.Duration, bool) {
	if step < 0 || step >= len(sc) {
		return 0, false
	}
	d := sc[step]
	if d <= 0 {
		return 0, true
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())), true
}

// maxRetryAfter caps how long a target's Retry-After can hold a delivery back.
const maxRetryAfter = 24 * time.Hour
