package jetstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

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
