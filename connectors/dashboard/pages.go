package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
)

// page is what every template gets: the layout's fields plus the page's own data.
type page struct {
	Title    string
	Nav      string
	SignedIn bool
	Message  string
	Notice   string
	Data     any
}

// notices are the messages an action's redirect asks the next page to show, by name: the
// URL carries the name only, never data.
var notices = map[string]string{
	"enabled":  "Endpoint enabled: paused deliveries go out now.",
	"disabled": "Endpoint disabled: new deliveries wait, paused, until it is enabled.",
	"test":     "Test event sent.",
	"retry":    "Delivery queued again.",
	"saved":    "Endpoint saved.",
	"deleted":  "Endpoint deleted.",
}

// render writes a page: the named template inside the layout.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.SignedIn = h.signedIn(r)
	if n := notices[r.URL.Query().Get("notice")]; n != "" && p.Notice == "" {
		p.Notice = n
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("dashboard template", "page", name, "err", err)
		http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fragment writes the "rows" template of a page alone: the rows of its live list.
func (h *handler) fragment(w http.ResponseWriter, name string, data any) error {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "rows", data); err != nil {
		return fmt.Errorf("render the rows of %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
	return nil
}

// back sends the browser to path after an action, with a notice to show.
func back(w http.ResponseWriter, r *http.Request, path, notice string) {
	http.Redirect(w, r, path+"?notice="+url.QueryEscape(notice), http.StatusSeeOther)
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "login", page{Title: "Sign in"})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if !httpapi.SameOrigin(r) {
		h.render(w, r, http.StatusForbidden, "login", page{Title: "Sign in", Message: "This sign-in did not come from this dashboard's page."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	p, err := httpapi.Authenticate(r.Context(), h.svc, h.token, r.PostFormValue("token"))
	if err != nil {
		if !errors.Is(err, gateway.ErrUnauthenticated) {
			h.fail(w, r, err)
			return
		}
		h.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Message: "That is neither this gateway's API token nor one of its keys."})
		return
	}
	if !p.Can(gateway.ScopeRead) {
		h.render(w, r, http.StatusForbidden, "login", page{Title: "Sign in", Message: "That key lacks the read scope the dashboard needs."})
		return
	}
	id, err := h.sessions.start(p.ID)
	if err != nil {
		h.fail(w, r, fmt.Errorf("start a session: %w", err))
		return
	}
	setSession(w, r, id, int(sessionTTL/time.Second))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(cookieName); err == nil {
		h.sessions.end(c.Value)
	}
	setSession(w, r, "", -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	return nil
}

// endpointRow is an endpoint with its numbers over the last day.
type endpointRow struct {
	*gateway.Endpoint
	Stats *gateway.EndpointStats
}

// statsWindow is the time the Endpoints page's numbers cover.
const statsWindow = 24 * time.Hour

// overviewWindows are the windows the Overview offers, by their query value.
var overviewWindows = []window{{"1h", "hour"}, {"24h", "24 hours"}}

// bar is one step of the Overview's chart, in the SVG's units.
type bar struct {
	X, W, OKY, OKH, FailY, FailH float64
	Label                        string
}

// chart is the Overview's attempts chart: stacked bars of successes and failures.
type chart struct {
	Bars          []bar
	Width, Height float64
	Max           int
	Step          string
}

// chartOf draws the series of st as bars in a width × height box.
func chartOf(st *gateway.Stats) chart {
	c := chart{Width: 600, Height: 120, Step: "minute"}
	if m := st.StepSeconds / 60; m > 1 {
		c.Step = fmt.Sprintf("%d minutes", m)
	}
	for _, p := range st.Series {
		c.Max = max(c.Max, p.Successes+p.Failures)
	}
	if len(st.Series) == 0 {
		return c
	}
	w := c.Width / float64(len(st.Series))
	scale := 0.0
	if c.Max > 0 {
		scale = c.Height / float64(c.Max)
	}
	for i, p := range st.Series {
		okH, failH := float64(p.Successes)*scale, float64(p.Failures)*scale
		c.Bars = append(c.Bars, bar{X: float64(i) * w, W: max(w-1, 1),
			OKY: c.Height - okH, OKH: okH, FailY: c.Height - okH - failH, FailH: failH,
			Label: fmt.Sprintf("%s: %d succeeded, %d failed", p.Start.Format("15:04"), p.Successes, p.Failures)})
	}
	return c
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) error {
	win := r.URL.Query().Get("window")
	if win == "" {
		win = "1h"
	}
	i := slices.IndexFunc(overviewWindows, func(o window) bool { return o.Value == win })
	if i < 0 {
		return badRequest("window: 1h or 24h")
	}
	d, _ := time.ParseDuration(win)
	st, err := h.svc.Stats(r.Context(), h.svc.Now().Add(-d))
	if err != nil {
		return err
	}
	eps := slices.Clone(st.Endpoints)
	// Failing or disabled endpoints first, then by failures.
	rank := func(e *gateway.EndpointStats) int {
		switch {
		case e.State != "enabled":
			return 0
		case e.Failures > 0 || e.LastError != "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(eps, func(a, b *gateway.EndpointStats) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return b.Failures - a.Failures
	})
	h.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Data: map[string]any{"Stats": st, "Endpoints": eps,
		"Window": overviewWindows[i], "Windows": overviewWindows, "Chart": chartOf(st)}})
	return nil
}

func (h *handler) endpointRows(r *http.Request) ([]endpointRow, error) {
	pg, err := h.svc.ListEndpoints(r.Context(), gateway.EndpointFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	st, err := h.svc.Stats(r.Context(), h.svc.Now().Add(-statsWindow))
	if err != nil {
		return nil, err
	}
	by := map[string]*gateway.EndpointStats{}
	for _, e := range st.Endpoints {
		by[e.EndpointID] = e
	}
	rows := make([]endpointRow, len(pg.Data))
	for i, ep := range pg.Data {
		rows[i] = endpointRow{Endpoint: ep, Stats: by[ep.ID]}
	}
	return rows, nil
}

func (h *handler) endpoints(w http.ResponseWriter, r *http.Request) error {
	rows, err := h.endpointRows(r)
	if err != nil {
		return err
	}
	types, err := h.svc.ListEventTypes(r.Context(), "")
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "endpoints", page{Title: "Endpoints", Nav: "endpoints", Data: map[string]any{"Rows": rows, "Types": types, "Kinds": h.svc.Kinds()}})
	return nil
}

// eventList reads a comma-separated list of event types.
func eventList(s string) []string {
	var events []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			events = append(events, e)
		}
	}
	return events
}

func (h *handler) editEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("the form could not be read: " + err.Error())
	}
	id := r.PathValue("id")
	u, events, desc := strings.TrimSpace(r.PostForm.Get("url")), eventList(r.PostForm.Get("events")), r.PostForm.Get("description")
	if _, err := h.svc.UpdateEndpoint(r.Context(), id, gateway.EndpointPatch{URL: &u, Events: &events, Description: &desc}); err != nil {
		return err
	}
	back(w, r, "/ui/endpoints/"+url.PathEscape(id), "saved")
	return nil
}

// confirmDelete asks before an endpoint is deleted.
func (h *handler) confirmDelete(w http.ResponseWriter, r *http.Request) error {
	ep, err := h.svc.GetEndpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "delete", page{Title: "Delete endpoint", Nav: "endpoints", Data: ep})
	return nil
}

func (h *handler) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteEndpoint(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	back(w, r, "/ui/endpoints", "deleted")
	return nil
}

func (h *handler) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("the form could not be read: " + err.Error())
	}
	var settings json.RawMessage
	if raw := strings.TrimSpace(r.PostForm.Get("settings")); raw != "" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(raw), &obj); err != nil {
			return badRequest("kind settings: must be a JSON object, such as {\"chat_id\":\"-100…\",\"bot_token\":\"…\"}")
		}
		settings = json.RawMessage(raw)
	}
	ep, secret, err := h.svc.CreateEndpoint(r.Context(), gateway.EndpointInput{URL: strings.TrimSpace(r.PostForm.Get("url")),
		Kind: r.PostForm.Get("kind"), Events: eventList(r.PostForm.Get("events")), Description: r.PostForm.Get("description"), Settings: settings})
	if err != nil {
		return err
	}
	return h.showEndpoint(w, r, ep.ID, "Endpoint created. Its signing secret is shown this once:", secret)
}

// showEndpoint renders an endpoint's page, with a secret to show once when there is one.
func (h *handler) showEndpoint(w http.ResponseWriter, r *http.Request, id, notice, secret string) error {
	ep, err := h.svc.GetEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	f, err := h.deliveryFilter(r)
	if err != nil {
		return err
	}
	pg, err := h.svc.ListDeliveries(r.Context(), id, f)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "endpoint", page{Title: "Endpoint " + ep.ID, Nav: "endpoints", Notice: notice,
		Data: map[string]any{"Endpoint": ep, "Secret": secret, "Deliveries": pg, "Status": string(f.Status), "Statuses": statuses,
			"Since": r.URL.Query().Get("since"), "Windows": windows}})
	return nil
}

// statuses are the delivery states the status filter offers.
var statuses = []string{"pending", "paused", "succeeded", "failed", "canceled"}

// window is a choice of the delivery list's time filter.
type window struct{ Value, Label string }

// windows are the time filters the delivery list offers; "" is any time.
var windows = []window{{"", "any time"}, {"15m", "15 minutes"}, {"1h", "hour"}, {"24h", "24 hours"}, {"168h", "7 days"}}

// deliveryFilter reads the status and time filters and the page cursor of a delivery list.
func (h *handler) deliveryFilter(r *http.Request) (gateway.DeliveryFilter, error) {
	q := r.URL.Query()
	f := gateway.DeliveryFilter{Status: gateway.DeliveryStatus(q.Get("status")), Cursor: q.Get("cursor"), Limit: 50}
	if s := q.Get("since"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return f, badRequest("since: a duration such as 1h")
		}
		f.Since = h.svc.Now().Add(-d)
	}
	return f, nil
}

func (h *handler) endpoint(w http.ResponseWriter, r *http.Request) error {
	return h.showEndpoint(w, r, r.PathValue("id"), "", "")
}

// deliveryRows is the body of an endpoint's delivery table alone, which the page fetches
// every two seconds to stay current.
func (h *handler) deliveryRows(w http.ResponseWriter, r *http.Request) error {
	f, err := h.deliveryFilter(r)
	if err != nil {
		return err
	}
	pg, err := h.svc.ListDeliveries(r.Context(), r.PathValue("id"), f)
	if err != nil {
		return err
	}
	return h.fragment(w, "endpoint", pg)
}

func (h *handler) setEnabled(on bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if _, err := h.svc.UpdateEndpoint(r.Context(), id, gateway.EndpointPatch{Enabled: &on}); err != nil {
			return err
		}
		n := "disabled"
		if on {
			n = "enabled"
		}
		back(w, r, "/ui/endpoints/"+url.PathEscape(id), n)
		return nil
	}
}

func (h *handler) sendTest(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.svc.TestEndpoint(r.Context(), id); err != nil {
		return err
	}
	back(w, r, "/ui/endpoints/"+url.PathEscape(id), "test")
	return nil
}

func (h *handler) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	secret, err := h.svc.RotateSecret(r.Context(), id)
	if err != nil {
		return err
	}
	return h.showEndpoint(w, r, id, fmt.Sprintf("Secret rotated; the old one keeps signing for %s. The new secret is shown this once:", gateway.SecretGrace), secret)
}

func (h *handler) replayFailed(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, err := time.ParseDuration(r.PostFormValue("since"))
	if err != nil || d <= 0 {
		return badRequest("since: a duration such as 1h")
	}
	n, err := h.svc.ReplayEndpoint(r.Context(), id, h.svc.Now().Add(-d), gateway.StatusFailed)
	if err != nil {
		return err
	}
	return h.showEndpoint(w, r, id, fmt.Sprintf("%d failed deliveries queued again.", n), "")
}

func (h *handler) delivery(w http.ResponseWriter, r *http.Request) error {
	d, err := h.svc.GetDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ev, _, err := h.svc.GetEvent(r.Context(), d.EventID)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "delivery", page{Title: "Delivery " + d.ID, Nav: "endpoints", Data: map[string]any{"D": d, "Payload": pretty(ev.Data)}})
	return nil
}

func (h *handler) retry(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, err := h.svc.GetDelivery(r.Context(), id)
	if err != nil {
		return err
	}
	if err := h.svc.RetryDelivery(r.Context(), id); err != nil {
		return err
	}
	back(w, r, "/ui/endpoints/"+url.PathEscape(d.EndpointID), "retry")
	return nil
}

// eventPage reads the events list's filters and lists the newest matching events.
func (h *handler) eventPage(r *http.Request) (*gateway.EventPage, error) {
	q := r.URL.Query()
	return h.svc.ListEvents(r.Context(), gateway.EventFilter{Newest: true, Type: q.Get("type"), Source: q.Get("source"), After: q.Get("cursor"), Limit: 50})
}

func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.eventPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	h.render(w, r, http.StatusOK, "events", page{Title: "Events", Nav: "events",
		Data: map[string]any{"Page": pg, "Type": q.Get("type"), "Source": q.Get("source"), "Cursor": q.Get("cursor")}})
	return nil
}

// eventRows is the body of the newest events' table alone, which the Events page fetches
// every two seconds to stay current.
func (h *handler) eventRows(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.eventPage(r)
	if err != nil {
		return err
	}
	return h.fragment(w, "events", pg)
}

func (h *handler) event(w http.ResponseWriter, r *http.Request) error {
	ev, ds, err := h.svc.GetEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "event", page{Title: "Event " + ev.ID, Nav: "events", Data: map[string]any{"Event": ev, "Deliveries": ds, "Payload": pretty(ev.Data)}})
	return nil
}

// base is the address catch-hook URLs start with.
func (h *handler) base(r *http.Request) string {
	if h.public != "" {
		return h.public
	}
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *handler) sources(w http.ResponseWriter, r *http.Request) error {
	srcs, err := h.svc.ListSources(r.Context())
	if err != nil {
		return err
	}
	type row struct {
		*gateway.Source
		HookURL string
	}
	rows := make([]row, len(srcs))
	for i, s := range srcs {
		rows[i] = row{Source: s.Public(), HookURL: s.CatchHookURL(h.base(r))}
	}
	h.render(w, r, http.StatusOK, "sources", page{Title: "Sources", Nav: "sources", Data: rows})
	return nil
}

func (h *handler) source(w http.ResponseWriter, r *http.Request) error {
	src, err := h.svc.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	reqs, err := h.svc.ListSourceRequests(r.Context(), src.ID, 100)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "source", page{Title: "Source " + src.Name, Nav: "sources",
		Data: map[string]any{"Source": src.Public(), "HookURL": src.CatchHookURL(h.base(r)), "Requests": reqs}})
	return nil
}

func (h *handler) eventTypes(w http.ResponseWriter, r *http.Request) error {
	all, err := h.svc.ListEventTypes(r.Context(), "")
	if err != nil {
		return err
	}
	var providers []string
	for _, t := range all {
		if !slices.Contains(providers, t.Provider) {
			providers = append(providers, t.Provider)
		}
	}
	slices.Sort(providers)
	provider := r.URL.Query().Get("provider")
	types := all
	if provider != "" {
		if types, err = h.svc.ListEventTypes(r.Context(), provider); err != nil {
			return err
		}
	}
	h.render(w, r, http.StatusOK, "event-types", page{Title: "Event types", Nav: "event-types",
		Data: map[string]any{"Types": types, "Providers": providers, "Provider": provider}})
	return nil
}

func (h *handler) eventType(w http.ResponseWriter, r *http.Request) error {
	provider := r.URL.Query().Get("provider")
	t, err := h.svc.GetEventType(r.Context(), r.PathValue("name"), provider)
	if err != nil {
		return err
	}
	exports := map[string]string{}
	for _, f := range []string{"jsonschema", "zapier", "make"} {
		raw, err := h.svc.ExportEventType(r.Context(), t.Name, provider, f)
		if err != nil {
			return err
		}
		exports[f] = pretty(raw)
	}
	h.render(w, r, http.StatusOK, "event-type", page{Title: "Event type " + t.Name, Nav: "event-types", Data: map[string]any{"Type": t, "Exports": exports}})
	return nil
}

// pretty indents JSON for reading; what is not JSON is shown as it is.
func pretty(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}
