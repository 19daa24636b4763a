package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

// Nodes started together on a fresh cluster (README "Running several nodes") all open:
// one creates the 3-replica stream, the others find it, though it may not answer yet.
func TestOpenTogetherOnAFreshCluster(t *testing.T) {
	c := jstest.StartCluster(t, 3)
	for round := range 5 {
		name := fmt.Sprintf("TOGETHER%d", round)
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := jetstream.Open(context.Background(), jetstream.Options{URL: c.URL(), Replicas: 3, Stream: name, Subjects: name, Logger: quiet})
				if err == nil {
					st.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, node %d: Open = %v", round, i+1, err)
			}
		}
	}
}

// DeleteStream finds the stream as Open does with the same Options — here the defaults:
// $NATS_URL and the stream HOOKGATE — and removes it; a stream that is not there is no
// error.
func TestDeleteStreamWithOpensDefaults(t *testing.T) {
	srv := jstest.Start(t)
	t.Setenv("NATS_URL", srv.URL())
	ctx := context.Background()
	st, err := jetstream.Open(ctx, jetstream.Options{Logger: quiet})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	st.Close()
	js := jstest.JetStream(t, srv.URL())
	if _, err := js.Stream(ctx, "HOOKGATE"); err != nil {
		t.Fatalf("the stream Open made with the defaults: %v", err)
	}
	if err := jetstream.DeleteStream(ctx, jetstream.Options{}); err != nil {
		t.Fatalf("DeleteStream: %v", err)
	}
	if _, err := js.Stream(ctx, "HOOKGATE"); !errors.Is(err, natsjs.ErrStreamNotFound) {
		t.Fatalf("the stream after DeleteStream: %v, want ErrStreamNotFound", err)
	}
	if err := jetstream.DeleteStream(ctx, jetstream.Options{}); err != nil {
		t.Errorf("DeleteStream of a stream not there: %v, want nil", err)
	}
}
