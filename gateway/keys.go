package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Named API keys. A key is "hgk_" + its record's ULID + "_" + 32 random bytes (base64url):
// the prefix makes it recognisable in logs and to secret scanners, the ULID finds its record
// without a scan. Only the key's SHA-256 is stored. A slow password hash (bcrypt, argon2)
// protects guessable secrets; a key has 256 random bits, so its SHA-256 cannot be reversed
// or guessed either, and checking it costs nothing on every request.

// KeyPrefix starts every named API key.
const KeyPrefix = "hgk_"

// RootPrincipalID is the principal of the API token that serve prints: every scope.
const RootPrincipalID = "root"

// RootPrincipal returns the principal of the serve token.
func RootPrincipal() *Principal {
	return &Principal{ID: RootPrincipalID, Name: "serve token", Scopes: slices.Clone(AllScopes)}
}

// ErrUnauthenticated means a presented key or token is unknown, revoked or expired.
var ErrUnauthenticated = errors.New("unknown, revoked or expired credential")

// ForbiddenError says which scope a call needs that its principal lacks.
type ForbiddenError struct {
	Scope Scope
}

// Error implements error.
func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("forbidden: this needs the %q scope, which the key or token does not have", e.Scope)
}

// Allow returns nil when the principal in ctx has scope, a *ForbiddenError when it lacks
// it. A context without a principal is a local caller (stdio MCP, in-process use): allowed.
func Allow(ctx context.Context, scope Scope) error {
	p, ok := PrincipalFrom(ctx)
	if !ok || p.Can(scope) {
		return nil
	}
	return &ForbiddenError{Scope: scope}
}

// APIKey is a named API key as stored: the hash of the key, never the key.
type APIKey struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Scopes   []Scope   `json:"scopes"`
	Hash     string    `json:"hash"`
	Prefix   string    `json:"prefix"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// KeyInfo is a key as listed: no secret, no hash; Prefix is the key's first characters, to
// tell it apart.
type KeyInfo struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Scopes   []Scope    `json:"scopes"`
	Prefix   string     `json:"prefix"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used"`
}

// info is k as listed.
func (k *APIKey) info() *KeyInfo {
	out := &KeyInfo{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Prefix: k.Prefix, Created: k.Created}
	if !k.LastUsed.IsZero() {
		t := k.LastUsed
		out.LastUsed = &t
	}
	return out
}

// principal is the principal k authenticates as.
func (k *APIKey) principal() *Principal {
	return &Principal{ID: k.ID, Name: k.Name, Scopes: k.Scopes}
}

// KeyInput is what POST /v1/keys takes.
type KeyInput struct {
	Name   string  `json:"name"`
	Scopes []Scope `json:"scopes"`
}

// lastUsedEvery is how stale a key's LastUsed may get before a use writes it again: one
// write a minute per key, not one per request.
const lastUsedEvery = time.Minute

// hashSecret is the stored form of a key, token or code: hex SHA-256.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// hashMatches compares secret's hash with a stored one in constant time.
func hashMatches(secret, stored string) bool {
	return stored != "" && subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(stored)) == 1
}

// randomPart returns 32 random bytes, base64url.
func randomPart() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newCredential returns "<prefix><ulid>_<secret>": a key, code or token that names its
// record by ulid (splitCredential reads it back), with 32 random bytes as the secret.
func newCredential(prefix, ulid string) string {
	return prefix + ulid + "_" + randomPart()
}

// splitCredential reads "<prefix><ulid>_<secret>" and returns the ULID.
func splitCredential(secret, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, prefix)
	if !ok {
		return "", false
	}
	id, tail, ok := strings.Cut(rest, "_")
	if !ok || id == "" || tail == "" || len(id) > 40 {
		return "", false
	}
	return id, true
}

// checkScopes validates requested scopes for field: at least one, each known, none that
// the principal in ctx lacks (a key or grant never gets more than who made it). It returns
// them without repeats, in AllScopes' order.
func checkScopes(ctx context.Context, field string, scopes []Scope) ([]Scope, error) {
	if len(scopes) == 0 {
		return nil, invalid(field, "at least one scope is required: %s", scopeList(AllScopes))
	}
	for i, sc := range scopes {
		if !slices.Contains(AllScopes, sc) {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "unknown scope %q: use %s", sc, scopeList(AllScopes))
		}
	}
	if p, ok := PrincipalFrom(ctx); ok {
		for i, sc := range scopes {
			if !p.Can(sc) {
				return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "%q: you can only give scopes you have (%s)", sc, scopeList(p.Scopes))
			}
		}
	}
	var out []Scope
	for _, sc := range AllScopes {
		if slices.Contains(scopes, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// JoinScopes writes scopes separated by sep: "read publish" (OAuth's scope parameter),
// "read, publish" (a message).
func JoinScopes(scopes []Scope, sep string) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, sep)
}

// scopeList names scopes for a message: "read, publish, manage".
func scopeList(scopes []Scope) string { return JoinScopes(scopes, ", ") }

// CreateKey makes a named API key with scopes (no more than the caller's own, when ctx
// carries a principal) and returns it as listed and the key itself, shown this once.
func (s *Service) CreateKey(ctx context.Context, in KeyInput) (*KeyInfo, string, error) {
	if err := s.admit(); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, "", invalid("name", "is required: say what the key is for, e.g. chatgpt")
	}
	if len(name) > 100 {
		return nil, "", invalid("name", "must be at most 100 characters")
	}
	scopes, err := checkScopes(ctx, "scopes", in.Scopes)
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	id := newID("key", now)
	ulid := strings.TrimPrefix(id, "key_")
	secret := newCredential(KeyPrefix, ulid)
	// The prefix shown is the key up to its random part: "hgk_" and the key id's ULID, which
	// tells a key seen in a log or a config apart and gives nothing away.
	k := &APIKey{ID: id, Name: name, Scopes: scopes, Hash: hashSecret(secret), Prefix: KeyPrefix + ulid, Created: now}
	if _, err := s.store.Keys().Put(ctx, id, k, 0); err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	return k.info(), secret, nil
}

// ListKeys returns every key, oldest first, without secrets.
func (s *Service) ListKeys(ctx context.Context) ([]*KeyInfo, error) {
	list, err := s.store.Keys().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	out := make([]*KeyInfo, len(list))
	for i, k := range list {
		out[i] = k.info()
	}
	return out, nil
}

// RevokeKey deletes key id: it stops working at once, with the OAuth grants it approved,
// the secret URL made of it and the MCP Events subscriptions it made.
func (s *Service) RevokeKey(ctx context.Context, id string) error {
	if err := s.store.Keys().Delete(ctx, id); err != nil {
		return fmt.Errorf("key %s: %w", id, err)
	}
	// Its MCP Events subscriptions end with it (those of grants it approved, at the next
	// background sweep: see expireSubscriptions).
	return s.endSubscriptionsOf(ctx, id)
}

// Authenticate returns the principal of a named API key ("hgk_…") or an OAuth access token
// ("hga_…"); anything else, or one revoked or expired, is ErrUnauthenticated. (The serve
// token is compared where it is configured: see httpapi.Authenticate.)
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	switch {
	case strings.HasPrefix(secret, KeyPrefix):
		return s.authenticateKey(ctx, secret)
	case strings.HasPrefix(secret, accessPrefix):
		return s.authenticateAccess(ctx, secret)
	}
	return nil, ErrUnauthenticated
}

// authenticateKey finds a key's record and checks its hash.
func (s *Service) authenticateKey(ctx context.Context, secret string) (*Principal, error) {
	ulid, ok := splitCredential(secret, KeyPrefix)
	if !ok {
		return nil, ErrUnauthenticated
	}
	id := "key_" + ulid
	k, err := credential(ctx, s.store.Keys(), id)
	if err != nil {
		return nil, err
	}
	if !hashMatches(secret, k.Hash) {
		return nil, ErrUnauthenticated
	}
	if now := s.now().UTC(); now.Sub(k.LastUsed) >= lastUsedEvery {
		_, _, err := casUpdate(ctx, s.store.Keys(), id, func(cur *APIKey) (*APIKey, error) {
			cur.LastUsed = now
			return cur, nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Warn("record a key's last use", "key", id, "err", err)
		}
	}
	return k.principal(), nil
}

// Principal returns the principal id names as it is now (a key's or grant's scopes), or
// ErrUnauthenticated when it was revoked: for a session or subscription made earlier.
func (s *Service) Principal(ctx context.Context, id string) (*Principal, error) {
	switch {
	case id == RootPrincipalID:
		return RootPrincipal(), nil
	case strings.HasPrefix(id, "key_"):
		k, err := credential(ctx, s.store.Keys(), id)
		if err != nil {
			return nil, err
		}
		return k.principal(), nil
	case strings.HasPrefix(id, "grant_"):
		g, err := credential(ctx, s.store.Grants(), id)
		if err != nil {
			return nil, err
		}
		return s.grantPrincipal(ctx, g)
	}
	return nil, ErrUnauthenticated
}

// credential reads record id of a collection of credentials (keys, grants): a missing one
// is ErrUnauthenticated (revoked, or never made).
func credential[T any](ctx context.Context, r Records[T], id string) (T, error) {
	v, _, err := r.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return v, ErrUnauthenticated
	}
	if err != nil {
		return v, fmt.Errorf("authenticate %s: %w", id, err)
	}
	return v, nil
}
