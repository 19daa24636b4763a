package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookgate/hookgate/schemas"
)

// EventTypeRecord is a custom event type as the registry keeps it.
type EventTypeRecord struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

// EventTypeInput adds a custom event type.
type EventTypeInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema"`
}

// catalog returns the event catalog, or an error when the Service runs without one.
func (s *Service) catalog() (*schemas.Catalog, error) {
	if s.opts.Catalog == nil {
		return nil, fmt.Errorf("this gateway runs without an event catalog: %w", ErrConflict)
	}
	return s.opts.Catalog, nil
}

// Catalog returns the event catalog the Service validates with (nil if none).
func (s *Service) Catalog() *schemas.Catalog { return s.opts.Catalog }

// ListEventTypes lists the catalog's types (built-in and custom), of one provider or all.
func (s *Service) ListEventTypes(ctx context.Context, provider string) ([]*schemas.Type, error) {
	c, err := s.catalog()
	if err != nil {
		return nil, err
	}
	return c.List(provider), nil
}

// GetEventType returns one type; provider, when set, picks that provider's type of the name.
func (s *Service) GetEventType(ctx context.Context, name, provider string) (*schemas.Type, error) {
	c, err := s.catalog()
	if err != nil {
		return nil, err
	}
	t, ok := c.Find(provider, name)
	if !ok {
		return nil, fmt.Errorf("event type %s: %w", name, ErrNotFound)
	}
	return t, nil
}

// ExportEventType renders a type in an export format (jsonschema, sample, zapier, make).
func (s *Service) ExportEventType(ctx context.Context, name, provider, format string) (json.RawMessage, error) {
	f, err := schemas.ParseFormat(format)
	if err != nil {
		return nil, invalid("format", "%s", err)
	}
	t, err := s.GetEventType(ctx, name, provider)
	if err != nil {
		return nil, err
	}
	return t.Export(f)
}

// AddEventType compiles and stores a custom event type. A schema that doesn't compile is a
// ValidationError naming the JSON pointer inside it ("schema/properties/n").
func (s *Service) AddEventType(ctx context.Context, in EventTypeInput) (*schemas.Type, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	c, err := s.catalog()
	if err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, invalid("name", "is required")
	}
	if len(in.Schema) == 0 {
		return nil, invalid("schema", "is required: a JSON Schema (draft 2020-12) for the event's data")
	}
	t, err := c.Add(in.Name, in.Description, in.Schema)
	var se *schemas.SchemaError
	switch {
	case errors.As(err, &se):
		return nil, &ValidationError{Field: se.FieldName(), Message: se.Message, Err: err}
	case errors.Is(err, schemas.ErrBuiltin), errors.Is(err, schemas.ErrExists):
		return nil, fmt.Errorf("%w: %w", ErrConflict, err)
	case err != nil:
		return nil, invalid("name", "%s", err)
	}
	rec := &EventTypeRecord{Name: in.Name, Description: in.Description, Schema: in.Schema}
	if _, err := s.store.EventTypes().Put(ctx, in.Name, rec, 0); err != nil {
		c.Remove(in.Name)
		return nil, fmt.Errorf("store event type %s: %w", in.Name, err)
	}
	return t, nil
}

// DeleteEventType removes a custom event type.
func (s *Service) DeleteEventType(ctx context.Context, name string) error {
	if err := s.admit(); err != nil {
		return err
	}
	c, err := s.catalog()
	if err != nil {
		return err
	}
	if t, ok := c.LookupProvider(schemas.CustomProvider, name); !ok {
		if _, builtin := c.Lookup(name); builtin {
			return fmt.Errorf("event type %s is built in: %w", name, ErrConflict)
		}
		return fmt.Errorf("event type %s: %w", name, ErrNotFound)
	} else if t.Builtin {
		return fmt.Errorf("event type %s is built in: %w", name, ErrConflict)
	}
	if err := s.store.EventTypes().Delete(ctx, name); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete event type %s: %w", name, err)
	}
	if err := c.Remove(name); err != nil && !errors.Is(err, schemas.ErrUnknownType) {
		return err
	}
	return nil
}
