package memo_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/connectors/internal/memo"
)

// A value is made once per key, a failure is not kept, and past Max keys the cache starts
// over (so a key is made again).
func TestCacheMakesOncePerKeyAndStartsOver(t *testing.T) {
	c := memo.Cache[string]{Max: 3}
	made := map[string]int{}
	get := func(k string) string {
		t.Helper()
		v, err := c.Get(k, func(k string) (string, error) { made[k]++; return "v:" + k, nil })
		if err != nil || v != "v:"+k {
			t.Fatalf("Get(%s) = %q, %v", k, v, err)
		}
		return v
	}
	get("a")
	get("a")
	get("b")
	get("c")
	if made["a"] != 1 || made["b"] != 1 || made["c"] != 1 {
		t.Fatalf("made %v, want each key once", made)
	}
	get("d") // the fourth key: the cache starts over
	get("a")
	if made["a"] != 2 {
		t.Errorf("a made %d times after the cache held more than Max keys, want 2", made["a"])
	}

	boom := errors.New("boom")
	for range 2 {
		if _, err := c.Get("bad", func(string) (string, error) { made["bad"]++; return "", boom }); !errors.Is(err, boom) {
			t.Fatalf("Get(bad) = %v, want boom", err)
		}
	}
	if made["bad"] != 2 {
		t.Errorf("a failing key made %d times in 2 Gets, want 2 (failures are not kept)", made["bad"])
	}
}

// Callers making the same key at once all get one value: the one kept first.
func TestCacheConcurrentGetsAgree(t *testing.T) {
	var c memo.Cache[*int]
	const n = 16
	got := make([]*int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = c.Get("k", func(string) (*int, error) { v := i; return &v, nil })
		}()
	}
	wg.Wait()
	for i := range n {
		if got[i] != got[0] {
			t.Fatalf("Get %d = %p, Get 0 = %p: two values for one key", i, got[i], got[0])
		}
	}
}
