package badger_test

import (
	"testing"

	bdb "github.com/dgraph-io/badger/v4"
)

// writeLegacy leaves in dir what a hookgate from before the storage seam wrote: an event
// and its arrival index entry (evt/), and no layout marker.
func writeLegacy(t *testing.T, dir string) {
	t.Helper()
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bdb.Txn) error {
		if err := tx.Set([]byte("ev/evt_1"), []byte(`{"event":{"id":"evt_1"}}`)); err != nil {
			return err
		}
		return tx.Set([]byte("evt/\x00\x00\x00\x00\x00\x00\x00\x01evt_1"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
