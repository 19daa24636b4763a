package httpapi

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// CodeInvalidSignature (401) is a catch-hook call that failed its source's verification.
const CodeInvalidSignature = "invalid_signature"

// withURL fills in a source's catch-hook URL from the request when the gateway has no
// public URL of its own.
func (s *server) withURL(c *gin.Context, src *gateway.Source) *gateway.Source {
	if src.URL == "" {
		src.URL = src.CatchHookURL(s.publicURL(c.Request))
	}
	return src
}

// sourceAnswer is a source as reads and lists show it: secret and URL token masked.
func (s *server) sourceAnswer(c *gin.Context, src *gateway.Source) *gateway.Source {
	return s.withURL(c, src).Public()
}

// sourceURL is the answer of GET /v1/sources/{id}/url.
type sourceURL struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

func (s *server) createSource(c *gin.Context) {
	var in gateway.SourceInput
	if err := s.bind(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	src, err := s.svc.CreateSource(c.Request.Context(), in)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.withURL(c, src).CreatedView())
}

func (s *server) listSources(c *gin.Context) {
	srcs, err := s.svc.ListSources(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]*gateway.Source, len(srcs))
	for i, src := range srcs {
		out[i] = s.sourceAnswer(c, src)
	}
	c.JSON(http.StatusOK, gin.H{"data": out})
}

func (s *server) getSource(c *gin.Context) {
	src, err := s.svc.GetSource(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.sourceAnswer(c, src))
}

// getSourceURL answers a source's whole catch-hook URL, token included: the one read that
// shows it besides the answer to the creation.
func (s *server) getSourceURL(c *gin.Context) {
	src, err := s.svc.GetSource(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, sourceURL{ID: src.ID, URL: s.withURL(c, src).URL})
}

func (s *server) updateSource(c *gin.Context) {
	var p gateway.SourcePatch
	if err := s.bind(c, &p); err != nil {
		s.writeError(c, err)
		return
	}
	src, err := s.svc.UpdateSource(c.Request.Context(), c.Param("id"), p)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.sourceAnswer(c, src))
}

func (s *server) deleteSource(c *gin.Context) {
	if err := s.svc.DeleteSource(c.Request.Context(), c.Param("id")); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) listSourceRequests(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.writeError(c, err)
		return
	}
	reqs, err := s.svc.ListSourceRequests(c.Request.Context(), c.Param("id"), limit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]SourceRequest, len(reqs))
	for i, r := range reqs {
		out[i] = SourceRequest{SourceRequest: r, Status: s.requestStatus(r)}
	}
	c.JSON(http.StatusOK, gin.H{"data": out})
}

// SourceRequest is a logged catch-hook call as GET /v1/sources/{id}/requests shows it: the
// gateway's record and status, the HTTP status the catch hook answered it with.
type SourceRequest struct {
	*gateway.SourceRequest
	// Status is the HTTP status of the catch hook's answer, decided from the record's
	// Result as the answer itself was (see requestStatus).
	Status int `json:"status"`
}

// requestStatus is the HTTP status a catch-hook call with r's result was answered: the
// error Receive returned for it, rebuilt from the result, through classify, the one
// mapping of errors to statuses. A stored or duplicate call was answered 200.
func (s *server) requestStatus(r *gateway.SourceRequest) int {
	var err error
	switch r.Result {
	case gateway.ResultAccepted, gateway.ResultDuplicate:
		return http.StatusOK
	case gateway.ResultRejected:
		err = gateway.ErrUnverified
	case gateway.ResultInvalid:
		ve := &gateway.ValidationError{Message: r.Error}
		if r.Malformed {
			ve.Err = gateway.ErrMalformed
		}
		err = ve
	default:
		err = fmt.Errorf("catch hook: %s", r.Error)
	}
	status, _ := s.classify(err)
	return status
}

// receive is the catch hook, POST /in/{id}[/{token}]: no bearer token, the provider's
// signature is the authentication. It answers as soon as the event is stored. Its body is
// read in one of the unauthenticated slots (see conn.go).
func (s *server) receive(c *gin.Context) {
	body, err := s.readUnauthenticatedBody(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	res, err := s.svc.Receive(c.Request.Context(), c.Param("id"), &gateway.InboundRequest{
		Header: c.Request.Header, Body: body, PathToken: c.Param("token"),
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	if res.Duplicate {
		c.JSON(http.StatusOK, gin.H{"id": res.ID, "duplicate": true})
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": res.ID})
}
