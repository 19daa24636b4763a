package gateway

import (
	"context"
	"slices"
)

// Scope names one kind of access a principal may have.
type Scope string

// The scopes. A key or grant carries one or more of them; the API token that serve prints
// carries all of them.
const (
	// ScopeRead: lists, gets, awaits, exports.
	ScopeRead Scope = "read"
	// ScopePublish: publishing events.
	ScopePublish Scope = "publish"
	// ScopeManage: endpoints, sources, event types and keys.
	ScopeManage Scope = "manage"
)

// AllScopes are the scopes of the serve token.
var AllScopes = []Scope{ScopeRead, ScopePublish, ScopeManage}

// Principal is who makes a call: a named API key, an OAuth grant, or the serve token.
// ID is stable for as long as the principal exists (a key's id, a grant's id, "root" for the
// serve token), so that what a principal owns (an MCP Events subscription) can name it.
type Principal struct {
	ID     string
	Name   string
	Scopes []Scope
}

// Can reports whether p has scope s. A nil principal has none.
func (p *Principal) Can(s Scope) bool {
	return p != nil && slices.Contains(p.Scopes, s)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p, the caller that the API or MCP authenticated.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal that ctx carries, if any.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
