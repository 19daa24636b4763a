package kv

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Reader reads committed records. It is valid only inside the View or Update call that
// handed it out.
type Reader struct {
	btx *badger.Txn
}

// Get returns a copy of the value stored under key, or ErrNotFound.
func (r *Reader) Get(key []byte) ([]byte, error) {
	item, err := r.btx.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", key, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", key, err)
	}
	return v, nil
}

// Scan calls fn for each key with prefix, in key order (reverse order if reverse is set),
// starting at start (inclusive; nil, or a start before every key with prefix, means the first
// key of the prefix, or the last when reversed). fn's key and value are valid only during the
// call. Scan stops when fn returns false or an error, and returns that error.
func (r *Reader) Scan(prefix, start []byte, reverse bool, fn func(key, value []byte) (bool, error)) error {
	io := badger.DefaultIteratorOptions
	io.Reverse = reverse
	io.PrefetchValues = false
	var seek, skip []byte
	switch end := prefixEnd(prefix); {
	case !reverse:
		io.Prefix = prefix
		seek = start
		if bytes.Compare(start, prefix) < 0 {
			seek = prefix
		}
	case start != nil && (end == nil || bytes.Compare(start, end) < 0):
		io.Prefix = prefix
		seek = start
	default:
		// From the last key with prefix: seek to the first key after the prefix (or to the
		// very end) and step over that key if it exists. Badger's Prefix option can't be set
		// here: its Valid would hide whether the iterator stands on that key.
		seek, skip = end, end
	}
	it := r.btx.NewIterator(io)
	defer it.Close()
	it.Seek(seek)
	if skip != nil && it.Valid() && bytes.Equal(it.Item().Key(), skip) {
		it.Next()
	}
	for ; it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		var more bool
		err := item.Value(func(v []byte) error {
			var err error
			more, err = fn(item.Key(), v)
			return err
		})
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// prefixEnd returns the first key after every key that starts with prefix, or nil if there is
// none (prefix is empty or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Txn is a read-write transaction handed to an Update function. Its writes are buffered
// and reach Badger only if the function returns nil.
type Txn struct {
	Reader
	ops      []op
	writes   map[string]int // key → index in ops of the latest write to it; nil while ops is short
	jobOps   []jobOp
	jobAt    map[string]int // job id → its last entry in jobOps, once there are many (addJobOp)
	onCommit []func()
}

// op is one buffered write.
type op struct {
	key, value []byte
	ttl        time.Duration
	del        bool
}

// Get returns the value under key as this transaction would leave it: its own writes first,
// then what is committed.
func (tx *Txn) Get(key []byte) ([]byte, error) {
	if i := tx.find(key); i >= 0 {
		if tx.ops[i].del {
			return nil, ErrNotFound
		}
		return append([]byte(nil), tx.ops[i].value...), nil
	}
	return tx.Reader.Get(key)
}

// Set stores value under key. Both slices must not be changed afterwards. Keys that start
// with "_" or "!badger!" are reserved: writing one panics (in Update's caller).
func (tx *Txn) Set(key, value []byte) { tx.put(op{key: key, value: value}) }

// SetTTL stores value under key until ttl has passed; then the key reads as absent.
func (tx *Txn) SetTTL(key, value []byte, ttl time.Duration) {
	tx.put(op{key: key, value: value, ttl: ttl})
}

// Delete removes key.
func (tx *Txn) Delete(key []byte) { tx.put(op{key: key, del: true}) }

// OnCommit registers f to run after the transaction is durably committed, before Update
// returns. f runs on the committer goroutine: it must be quick and must not block.
func (tx *Txn) OnCommit(f func()) { tx.onCommit = append(tx.onCommit, f) }

// put buffers a caller's write: one to a reserved key (the engine's own, under "_", job keys
// included, or Badger's) panics.
func (tx *Txn) put(o op) {
	if len(o.key) == 0 {
		panic("queue: empty key")
	}
	if o.key[0] == '_' || bytes.HasPrefix(o.key, badgerPrefix) {
		panic(fmt.Sprintf("queue: key %.64q is reserved", o.key))
	}
	tx.write(o)
}

// write buffers o, replacing an earlier write to the same key.
func (tx *Txn) write(o op) {
	if i := tx.find(o.key); i >= 0 {
		tx.ops[i] = o
		return
	}
	tx.ops = append(tx.ops, o)
	switch {
	case tx.writes != nil:
		tx.writes[string(o.key)] = len(tx.ops) - 1
	case len(tx.ops) > shortTxn:
		tx.writes = make(map[string]int, 2*len(tx.ops))
		for i, o := range tx.ops {
			tx.writes[string(o.key)] = i
		}
	}
}

// shortTxn is how many writes a Txn looks through one by one before it indexes them by key:
// a publish or a completion makes a dozen or fewer, for which the map (and a string of every
// key) cost more than the comparisons.
const shortTxn = 16

// find returns the index in ops of the write to key, or -1.
func (tx *Txn) find(key []byte) int {
	if tx.writes != nil {
		if i, ok := tx.writes[string(key)]; ok {
			return i
		}
		return -1
	}
	for i := range tx.ops {
		if bytes.Equal(tx.ops[i].key, key) {
			return i
		}
	}
	return -1
}

// size estimates the bytes and entries the writes will take in a Badger transaction, as
// Badger counts them (badger.Txn.checkSize): the key, the value or a 12-byte pointer into
// the value log (values of at least threshold bytes), 2 bytes of metadata and 10 of version, rounded up to 16.
func (tx *Txn) size(threshold int64) (int64, int) {
	var n int64
	for _, o := range tx.ops {
		v := len(o.value)
		if int64(v) >= threshold {
			v = 12 // a pointer into the value log
		}
		n += int64(len(o.key)+v) + 16
	}
	return n, len(tx.ops)
}

// maxKeySize is the longest key Badger accepts (badger.Txn.modify).
const maxKeySize = 65000

// badgerPrefix starts the keys Badger keeps for itself; it refuses writes to them.
var badgerPrefix = []byte("!badger!")

// check reports writes that Badger would refuse outright, so that they fail this transaction
// alone rather than the batch it would have joined. maxValue is the largest value allowed.
func (tx *Txn) check(maxValue int64) error {
	for _, o := range tx.ops {
		if len(o.key) > maxKeySize {
			return fmt.Errorf("%w: a %d-byte key (at most %d): %.64q", ErrTooLarge, len(o.key), maxKeySize, o.key)
		}
		if int64(len(o.value)) > maxValue {
			return fmt.Errorf("%w: a %d-byte value (at most %d) under %.64q", ErrTooLarge, len(o.value), maxValue, o.key)
		}
	}
	return nil
}

// applyTo copies the buffered writes into a Badger transaction.
func (tx *Txn) applyTo(btx *badger.Txn) error {
	for _, o := range tx.ops {
		var err error
		switch {
		case o.del:
			err = btx.Delete(o.key)
		case o.ttl > 0:
			err = btx.SetEntry(badger.NewEntry(o.key, o.value).WithTTL(o.ttl))
		default:
			err = btx.Set(o.key, o.value)
		}
		if err != nil {
			return fmt.Errorf("write %.64q: %w", o.key, err)
		}
	}
	return nil
}
