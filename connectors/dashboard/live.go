package dashboard

import (
	"fmt"
	"net/http"
	"time"
)

// liveKeepAlive is how often an idle live stream sends a comment, so that proxies and
// browsers don't take it for dead.
const liveKeepAlive = 25 * time.Second

// liveGap is the least time between two "change" messages of a stream: a burst of
// deliveries is one message, then another for what came during the gap.
const liveGap = 200 * time.Millisecond

// live streams server-sent events to a page with live lists: "change" whenever an event
// is appended or a delivery saved, after which the page fetches its rows again. The
// stream ends when the page goes away, the session ends (checked at each change), or
// Options.Done is closed.
func (h *handler) live(w http.ResponseWriter, r *http.Request) error {
	rc := http.NewResponseController(w)
	events := h.svc.WaitFor("*", "") // other processes' events, on a shared store
	defer events.Close()
	changed := h.svc.Changed()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass each message on at once
	w.WriteHeader(http.StatusOK)
	send := func(msg string) bool {
		if _, err := fmt.Fprint(w, msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// retry: how long the browser waits before it reconnects a broken stream.
	if !send("retry: 2000\n\n") {
		return nil
	}
	keep := time.NewTicker(liveKeepAlive)
	defer keep.Stop()
	ctx := r.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.done:
			return nil
		case <-keep.C:
			if !send(": keep-alive\n\n") {
				return nil
			}
			continue
		case <-changed:
		case <-events.Ready():
		}
		if !h.signedIn(r) {
			return nil
		}
		// A fresh channel before the message: a change after it is caught by the next one.
		changed = h.svc.Changed()
		select {
		case <-events.Ready(): // the same change, when it was this process's event
		default:
		}
		if !send("event: change\ndata: {}\n\n") {
			return nil
		}
		gap := time.NewTimer(liveGap)
		select {
		case <-ctx.Done():
			gap.Stop()
			return nil
		case <-h.done:
			gap.Stop()
			return nil
		case <-gap.C:
		}
	}
}
