package connectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/connectors/inbound"
	"github.com/hookgate/hookgate/gateway"
)

// Inbound returns the gateway's catch-hook side: the provider presets of connectors/inbound
// (verification and mapping) behind gateway.Inbound.
func Inbound() gateway.Inbound { return inboundPresets{} }

type inboundPresets struct{}

// config turns a stored source into the presets' settings.
func config(src *gateway.Source) (*inbound.Config, error) {
	cfg := &inbound.Config{Provider: src.Provider, Secret: src.Secret, Mapping: src.Mapping, Sample: src.Sample}
	if len(src.Verify) > 0 && string(src.Verify) != "null" {
		cfg.Verify = &inbound.VerifyConfig{}
		dec := json.NewDecoder(bytes.NewReader(src.Verify))
		dec.DisallowUnknownFields()
		if err := dec.Decode(cfg.Verify); err != nil {
			return nil, &gateway.ValidationError{Field: "verify", Message: "must be an object of verification settings: " + err.Error(), Err: err}
		}
	}
	return cfg, nil
}

// CheckSource validates the settings and stores back what the presets normalised (a
// generated Upload-Post token, default headers and algorithms).
func (inboundPresets) CheckSource(src *gateway.Source) error {
	cfg, err := config(src)
	if err != nil {
		return err
	}
	if err := inbound.Check(cfg); err != nil {
		var fe *inbound.FieldError
		if errors.As(err, &fe) {
			return &gateway.ValidationError{Field: fe.Field, Message: fe.Message, Err: err}
		}
		return &gateway.ValidationError{Field: "provider", Message: err.Error(), Err: err}
	}
	src.Provider, src.Secret = cfg.Provider, cfg.Secret
	if cfg.Verify != nil {
		b, err := json.Marshal(cfg.Verify)
		if err != nil {
			return err
		}
		src.Verify = b
	}
	return nil
}

// Open verifies the call with the source's preset, then maps its payload; the source's
// settings are decoded once for both.
func (inboundPresets) Open(src *gateway.Source, r *gateway.InboundRequest, now time.Time) (*gateway.InboundEvent, error) {
	cfg, err := config(src)
	if err != nil {
		return nil, fmt.Errorf("%w: the source's settings can't be read: %w", gateway.ErrUnverified, err)
	}
	req := inbound.Request{Header: r.Header, Body: r.Body, PathToken: r.PathToken}
	if err := inbound.Verify(cfg, req, now); err != nil {
		return nil, fmt.Errorf("%w: %w", gateway.ErrUnverified, err)
	}
	env, err := inbound.MapRequest(cfg, req)
	if err != nil {
		return nil, err
	}
	return &gateway.InboundEvent{ID: env.ID, Type: env.Type, Created: env.Created, Data: env.Data}, nil
}
