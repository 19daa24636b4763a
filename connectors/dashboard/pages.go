package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	// Refresh, when set, makes the browser reload the page after that many seconds.
	Refresh int
	Data    any
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
	// A page behind get or post carries the principal they looked up; only the others (the
	// sign-in page) look the session up here.
	if _, ok := gateway.PrincipalFrom(r.Context()); ok {
		p.SignedIn = true
	} else {
		p.SignedIn = h.signedIn(r)
	}
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

// bar is one step of an Overview chart, in the SVG's units: its segments stacked from the
// bottom up.
type bar struct {
	X, W  float64
	Segs  []segment
	Label string
}

// segment is one part of a bar.
type segment struct {
	Y, H float64
	Fill string
}

// chart is one of the Overview's charts: stacked bars over the series of Stats.
type chart struct {
	// ID names the chart's SVG element; Desc describes it to a screen reader.
	ID, Desc string
	// From and To are the times at its left and right edges (UTC, hours and minutes).
	From, To      string
	Bars          []bar
	Width, Height float64
	Max           int
	Step          string
}

// The charts' colours: events, succeeded and failed attempts.
const (
	fillEvents = "#3b6fb6"
	fillOK     = "#2e9d5b"
	fillFailed = "#c93636"
)

// chartOf draws the series of st as stacked bars in a 600 × 120 box: parts gives the
// values of a step, one per fill, bottom first, and label describes a step.
func chartOf(id string, st *gateway.Stats, fills []string, parts func(p gateway.StatsPoint) []int, label func(p gateway.StatsPoint) string) chart {
	c := chart{ID: id, Width: 600, Height: 120, Step: "minute"}
	if m := st.StepSeconds / 60; m > 1 {
		c.Step = fmt.Sprintf("%d minutes", m)
	}
	sum := func(vs []int) (n int) {
		for _, v := range vs {
			n += v
		}
		return n
	}
	for _, p := range st.Series {
		c.Max = max(c.Max, sum(parts(p)))
	}
	c.Desc = fmt.Sprintf("one bar per %s; the tallest is %d", c.Step, c.Max)
	c.From, c.To = st.Since.UTC().Format("15:04"), st.Until.UTC().Format("15:04")
	if len(st.Series) == 0 {
		return c
	}
	w := c.Width / float64(len(st.Series))
	scale := 0.0
	if c.Max > 0 {
		scale = c.Height / float64(c.Max)
	}
	for i, p := range st.Series {
		b := bar{X: float64(i) * w, W: max(w-1, 1), Label: p.Start.Format("15:04") + ": " + label(p)}
		y := c.Height
		for k, v := range parts(p) {
			if v == 0 {
				continue
			}
			h := float64(v) * scale
			y -= h
			b.Segs = append(b.Segs, segment{Y: y, H: h, Fill: fills[k]})
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// eventsChart is the Overview's chart of the events received per step.
func eventsChart(st *gateway.Stats) chart {
	return chartOf("events-chart", st, []string{fillEvents}, func(p gateway.StatsPoint) []int { return []int{p.Events} },
		func(p gateway.StatsPoint) string { return plural(p.Events, "event") })
}

// attemptsChart is the Overview's chart of the attempts made per step, succeeded below
// failed.
func attemptsChart(st *gateway.Stats) chart {
	return chartOf("attempts-chart", st, []string{fillOK, fillFailed}, func(p gateway.StatsPoint) []int { return []int{p.Successes, p.Failures} },
		func(p gateway.StatsPoint) string {
			return fmt.Sprintf("%d succeeded, %d failed", p.Successes, p.Failures)
		})
}

// plural is n with noun, plural when n is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
		"Window": overviewWindows[i], "Windows": overviewWindows, "Events": eventsChart(st), "Attempts": attemptsChart(st)}})
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
	type kindView struct {
		Kind   string
		Fields []gateway.SettingField
	}
	var kinds []kindView
	for _, k := range h.svc.Kinds() {
		kinds = append(kinds, kindView{Kind: k, Fields: h.svc.SettingsFields(k)})
	}
	h.render(w, r, http.StatusOK, "endpoints", page{Title: "Endpoints", Nav: "endpoints", Data: map[string]any{"Rows": rows, "Types": types, "Kinds": kinds}})
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

// settingView is one setting of the endpoint's kind as the edit form shows it: a
// credential's value is never shown, only whether one is stored.
type settingView struct {
	gateway.SettingField
	Value string // the current value; empty for a credential
	Set   bool   // a value is stored
}

// settingViews are the settings of ep's kind with their current values, from ep as
// answers show it (credentials masked).
func (h *handler) settingViews(ep *gateway.Endpoint) []settingView {
	var cur map[string]any
	if len(ep.Settings) > 0 {
		_ = json.Unmarshal(ep.Settings, &cur) // stored settings are an object
	}
	var out []settingView
	for _, f := range h.svc.SettingsFields(ep.Kind) {
		v, _ := cur[f.Key].(string)
		sv := settingView{SettingField: f, Set: v != ""}
		if !f.Secret {
			sv.Value = v
		}
		out = append(out, sv)
	}
	return out
}

// editEndpoint saves the edit form. Fields the form does not carry stay as they are. A
// credential left blank (a kind's secret setting, an auth value or password) keeps the
// stored one; its "Remove" box clears it.
func (h *handler) editEndpoint(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("the form could not be read: " + err.Error())
	}
	id := r.PathValue("id")
	ep, err := h.svc.GetEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	form := r.PostForm
	u, events, desc := strings.TrimSpace(form.Get("url")), eventList(form.Get("events")), form.Get("description")
	p := gateway.EndpointPatch{URL: &u, Events: &events, Description: &desc}
	if form.Has("mapping") {
		m := strings.TrimSpace(form.Get("mapping"))
		p.Mapping = &m
	}
	if form.Has("rate_limit_per_s") {
		rate := 0.0
		if s := strings.TrimSpace(form.Get("rate_limit_per_s")); s != "" {
			if rate, err = strconv.ParseFloat(s, 64); err != nil || rate < 0 {
				return badRequest("rate limit: a number of deliveries per second, 0 or more (empty: no limit)")
			}
		}
		p.RateLimitPerS = &rate
	}
	settings := map[string]any{}
	for _, f := range h.svc.SettingsFields(ep.Kind) {
		key := "setting." + f.Key
		switch v := form.Get(key); {
		case !form.Has(key):
		case f.Secret && form.Get("clear."+f.Key) != "":
			settings[f.Key] = nil
		case f.Secret && v == "":
			// left blank: the stored credential stays
		default:
			settings[f.Key] = v
		}
	}
	if len(settings) > 0 {
		if p.Settings, err = json.Marshal(settings); err != nil {
			return fmt.Errorf("edit endpoint %s: %w", id, err)
		}
	}
	if form.Has("auth_type") {
		p.Auth = formAuth(form, ep.Auth)
	}
	if _, err := h.svc.UpdateEndpoint(r.Context(), id, p); err != nil {
		return err
	}
	back(w, r, "/ui/endpoints/"+url.PathEscape(id), "saved")
	return nil
}

// formAuth is the auth the edit form asks for: none, a header or basic auth. A blank value
// or password of the auth type the endpoint has sends back the stored one as answers show
// it (masked), which the gateway reads as "keep the stored one".
func formAuth(form url.Values, cur *gateway.EndpointAuth) *gateway.EndpointAuth {
	a := &gateway.EndpointAuth{Type: form.Get("auth_type")}
	same := cur != nil && cur.Type == a.Type
	switch a.Type {
	case "header":
		a.Name, a.Value = strings.TrimSpace(form.Get("auth_name")), form.Get("auth_value")
		if a.Value == "" && same {
			a.Value = cur.Value
		}
	case "basic":
		a.Username, a.Password = form.Get("auth_username"), form.Get("auth_password")
		if a.Password == "" && same {
			a.Password = cur.Password
		}
	}
	return a
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
	// The kind's own settings, from the fields of the kind picked (each kind has its own,
	// named <kind>.<key>); empty ones are left out.
	kind := r.PostForm.Get("kind")
	st := map[string]string{}
	for _, f := range h.svc.SettingsFields(kind) {
		if v := r.PostForm.Get(kind + "." + f.Key); v != "" {
			st[f.Key] = v
		}
	}
	var settings json.RawMessage
	if len(st) > 0 {
		var err error
		if settings, err = json.Marshal(st); err != nil {
			return fmt.Errorf("create endpoint: %w", err)
		}
	}
	ep, secret, err := h.svc.CreateEndpoint(r.Context(), gateway.EndpointInput{URL: strings.TrimSpace(r.PostForm.Get("url")),
		Kind: kind, Events: eventList(r.PostForm.Get("events")), Description: r.PostForm.Get("description"), Settings: settings})
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
		Data: map[string]any{"Endpoint": ep, "Settings": h.settingViews(ep), "Secret": secret, "Deliveries": pg, "Status": string(f.Status), "Statuses": statuses,
			"Since": r.URL.Query().Get("since"), "Windows": windows, "Cursor": f.Cursor}})
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

// deliveryRows is the body of an endpoint's delivery table alone (its newest page), which
// the page fetches again at each change (see live) to stay current.
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

// sentBody is a request body an attempt of a delivery sent, as the delivery page shows it.
type sentBody struct {
	Attempt int // counted from 1
	At      time.Time
	Body    string
	Bytes   int
	Cut     bool   // Body is the first gateway.MaxRequestBody bytes of Bytes
	Pretty  string // Body indented, when it is whole JSON and not already indented
}

// sentBodies are the bodies a delivery's attempts sent, newest first: the newest attempt
// that sent one, then each earlier one whose body differs from the body after it (the
// endpoint was edited between them). A retry that sent the same body is not repeated.
func sentBodies(d *gateway.Delivery) []sentBody {
	var out []sentBody
	for i := len(d.Attempts) - 1; i >= 0; i-- {
		a := d.Attempts[i]
		if a.RequestBytes == 0 || len(out) > 0 && out[len(out)-1].Body == a.RequestBody {
			continue
		}
		sb := sentBody{Attempt: i + 1, At: a.At, Body: a.RequestBody, Bytes: a.RequestBytes, Cut: a.RequestBytes > len(a.RequestBody)}
		if p := pretty(json.RawMessage(a.RequestBody)); !sb.Cut && p != a.RequestBody {
			sb.Pretty = p
		}
		out = append(out, sb)
	}
	return out
}

func (h *handler) delivery(w http.ResponseWriter, r *http.Request) error {
	d, err := h.svc.GetDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := map[string]any{"D": d, "Sent": sentBodies(d)}
	if ev, _, err := h.svc.GetEvent(r.Context(), d.EventID); err == nil {
		data["Envelope"] = pretty(ev.Body())
	} else if !errors.Is(err, gateway.ErrNotFound) {
		return err
	}
	h.render(w, r, http.StatusOK, "delivery", page{Title: "Delivery " + d.ID, Nav: "endpoints", Data: data})
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
// again at each change (see live) to stay current.
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
	var sample string
	if len(t.Example) > 0 {
		sample = pretty(t.Example)
	}
	h.render(w, r, http.StatusOK, "event-type", page{Title: "Event type " + t.Name, Nav: "event-types", Data: map[string]any{"Type": t, "Exports": exports, "Sample": sample}})
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
