package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeleteStream removes the stream o names (Options.Stream, "HOOKGATE" by default) with
// everything in it, connecting as Open does; a stream that is not there is no error. It is
// for what made a stream of its own for a while (hookgate bench), never for a gateway's.
func DeleteStream(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o = o.withDefaults()
	s := &Store{opts: o, log: o.Logger}
	nopts, err := s.natsOptions()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(s.opts.URL, append(nopts, nats.MaxReconnects(0))...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", redactURL(s.opts.URL), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := js.DeleteStream(ctx, s.opts.Stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete stream %s: %w", s.opts.Stream, err)
	}
	return nil
}
