package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/telegram"
	"github.com/hookgate/hookgate/gateway"
)

const (
	token   = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	chat    = "-1001234567890"
	blocked = "42"
	flooded = "43"
)

func dev() *telegram.Sender {
	return telegram.New(telegram.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
}

// set changes the Telegram settings of m's endpoint.
func set(m *gateway.Message, f func(*telegram.Settings)) {
	var st telegram.Settings
	if len(m.Endpoint.Settings) > 0 {
		if err := json.Unmarshal(m.Endpoint.Settings, &st); err != nil {
			panic(err)
		}
	}
	f(&st)
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	m.Endpoint.Settings = b
}

// message returns a test message to the chat through the Bot API server at base.
func message(base, chatID string) *gateway.Message {
	m := connectortest.Message(base, connectortest.Secret)
	m.Endpoint.Kind = telegram.Kind
	set(m, func(st *telegram.Settings) { st.BotToken, st.ChatID = token, chatID })
	m.Event.Data = []byte(`{"video_id":"v_1","platform":"instagram","post_url":"https://www.instagram.com/p/C1/","post_id":"C1","posted_at":"2026-06-24T14:00:05Z"}`)
	m.Body = m.Event.Body()
	return m
}

func TestSenderSuite(t *testing.T) {
	connectortest.SenderSuite{
		NewSender:  func(*testing.T, string) gateway.Sender { return dev() },
		NewMessage: func(url string) *gateway.Message { return message(url, chat) },
		Secrets:    []string{token, strings.Split(token, ":")[1]},
	}.Run(t)
}

// botAPI answers as the Bot API's sendMessage does for the bot token: 401 for another
// token, 404 for another method, 400 for a body without chat_id or text or for an unknown
// chat, 403 when the user blocked the bot, 429 with parameters.retry_after when the chat
// is flooded, else 200 {"ok":true,…}. It passes on each text it accepts.
func botAPI(t *testing.T) (string, <-chan string) {
	got := make(chan string, 10)
	fail := func(w http.ResponseWriter, code int, desc, params string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"ok":false,"error_code":%d,"description":%q%s}`, code, desc, params)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			ChatID any    `json:"chat_id"`
			Text   string `json:"text"`
		}
		body, _ := io.ReadAll(r.Body)
		rest, ok := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
		switch {
		case !strings.HasPrefix(r.URL.Path, "/bot") || !ok:
			fail(w, http.StatusUnauthorized, "Unauthorized", "")
		case rest != "sendMessage":
			fail(w, http.StatusNotFound, "Not Found", "")
		case json.Unmarshal(body, &msg) != nil || msg.ChatID == nil || msg.ChatID == "":
			fail(w, http.StatusBadRequest, "Bad Request: chat_id is empty", "")
		case msg.Text == "":
			fail(w, http.StatusBadRequest, "Bad Request: message text is empty", "")
		case msg.ChatID == blocked:
			fail(w, http.StatusForbidden, "Forbidden: bot was blocked by the user", "")
		case msg.ChatID == flooded:
			fail(w, http.StatusTooManyRequests, "Too Many Requests: retry after 35", `,"parameters":{"retry_after":35}`)
		case msg.ChatID != chat:
			fail(w, http.StatusBadRequest, "Bad Request: chat not found", "")
		default:
			got <- msg.Text
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":7,"chat":{"id":%s,"type":"channel"},"date":1782309605,"text":%q}}`, chat, msg.Text)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func TestSendMessage(t *testing.T) {
	cases := []struct {
		name, chat, tmpl string
		status           int
		retryAfter       time.Duration
		text             string
	}{
		{name: "default text", chat: chat, status: http.StatusOK, text: "Video posted on instagram: https://www.instagram.com/p/C1/"},
		{name: "endpoint template", chat: chat, tmpl: "{{.type}} from {{.source}}: {{.data.post_url}} <b>", status: http.StatusOK, text: "video.posted from tokportal: https://www.instagram.com/p/C1/ <b>"},
		{name: "bot blocked", chat: blocked, status: http.StatusForbidden},
		{name: "flood control", chat: flooded, status: http.StatusTooManyRequests, retryAfter: 35 * time.Second},
		{name: "unknown chat", chat: "-1009", status: http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, got := botAPI(t)
			m := message(base, c.chat)
			set(m, func(st *telegram.Settings) { st.Template = c.tmpl })
			out := dev().Send(context.Background(), m)
			if out.Err != nil || out.StatusCode != c.status || out.RetryAfter != c.retryAfter {
				t.Fatalf("Send = {%d %s retry after %s %v}, want %d retry after %s", out.StatusCode, out.Body, out.RetryAfter, out.Err, c.status, c.retryAfter)
			}
			if c.status == http.StatusOK {
				if text := <-got; text != c.text {
					t.Errorf("Telegram got text %q, want %q", text, c.text)
				}
			}
		})
	}
}

func TestBaseURLWithPathAndSlash(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	m := message(rcv.URL()+"/tg/", chat)
	if out := dev().Send(context.Background(), m); out.Err != nil {
		t.Fatalf("Send = %+v", out)
	}
	if r := rcv.Want(t, 5*time.Second, 1)[0]; r.Path != "/tg/bot"+token+"/sendMessage" {
		t.Errorf("path = %s, want /tg/bot<token>/sendMessage", r.Path)
	}
}

func TestTokenNotLeaked(t *testing.T) {
	closed := connectortest.NewReceiver(t)
	closed.Close()
	live := connectortest.NewReceiver(t)
	live.Queue(connectortest.Response{Delay: time.Minute})
	cases := []struct {
		name, base, token string
		timeout           time.Duration
	}{
		{"refused connection", closed.URL(), token, 0},
		{"timeout", live.URL(), token, 100 * time.Millisecond},
		{"token that breaks the URL", closed.URL(), "123:AA\nHdq%zz", 0},
		{"production policy", "https://127.0.0.1:1", token, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			m := message(c.base, chat)
			set(m, func(st *telegram.Settings) { st.BotToken = c.token })
			s := dev()
			if strings.HasPrefix(c.base, "https:") {
				s = telegram.New(telegram.Options{})
			}
			out := s.Send(ctx, m)
			if out.Err == nil {
				t.Fatalf("Send = %+v, want an error", out)
			}
			connectortest.AssertNoSecretLeak(t, out, c.token, strings.Split(c.token, ":")[1], "Hdq")
			t.Logf("error: %v", out.Err)
		})
	}
}

func TestIncompleteEndpoint(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	for _, m := range []*gateway.Message{message(rcv.URL(), ""), func() *gateway.Message {
		m := message(rcv.URL(), chat)
		set(m, func(st *telegram.Settings) { st.BotToken = "" })
		return m
	}(), nil} {
		if out := dev().Send(context.Background(), m); out.Err == nil {
			t.Errorf("Send = %+v, want an error", out)
		}
	}
	if n := rcv.Count(); n != 0 {
		t.Errorf("the server got %d requests, want none", n)
	}
}

func TestRetryAfter(t *testing.T) {
	for body, want := range map[string]time.Duration{
		`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}`: 35 * time.Second,
		`{"ok":false,"error_code":429,"parameters":{"retry_after":0}}`:                                                    0,
		`{"ok":false,"error_code":429,"parameters":{"retry_after":-5}}`:                                                   0,
		`{"ok":false,"error_code":429,"parameters":{"retry_after":99999999999}}`:                                          24 * time.Hour,
		`{"ok":false,"error_code":429}`:                                                                                   0,
		`Too Many Requests`:                                                                                               0,
		``:                                                                                                                0,
	} {
		if got := telegram.RetryAfter([]byte(body)); got != want {
			t.Errorf("RetryAfter(%s) = %s, want %s", body, got, want)
		}
	}
}

func TestRetryAfterHeaderWins(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	rcv.Queue(connectortest.Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"9"}}, Body: `{"ok":false,"parameters":{"retry_after":35}}`})
	if out := dev().Send(context.Background(), message(rcv.URL(), chat)); out.RetryAfter != 9*time.Second {
		t.Fatalf("Send = %+v, want retry after 9s", out)
	}
}

func TestCheckEndpoint(t *testing.T) {
	valid := telegram.Settings{BotToken: token, ChatID: chat}
	with := func(f func(*telegram.Settings)) telegram.Settings {
		s := valid
		f(&s)
		return s
	}
	cases := []struct {
		name     string
		url      string
		settings telegram.Settings
		other    string // a setting of another kind's, added to settings
		field    string // "" when valid
		wantURL  string
	}{
		{name: "defaults the URL", settings: valid, wantURL: telegram.DefaultURL},
		{name: "keeps a local Bot API server", url: "http://127.0.0.1:8081", settings: valid, wantURL: "http://127.0.0.1:8081"},
		{name: "channel username", settings: with(func(s *telegram.Settings) { s.ChatID = "@acme_news" }), wantURL: telegram.DefaultURL},
		{name: "positive chat id", settings: with(func(s *telegram.Settings) { s.ChatID = "987654321" }), wantURL: telegram.DefaultURL},
		{name: "template", settings: with(func(s *telegram.Settings) { s.Template = "{{.data.platform}}" }), wantURL: telegram.DefaultURL},
		{name: "short token as in the docs", settings: with(func(s *telegram.Settings) { s.BotToken = "123:ABC" }), wantURL: telegram.DefaultURL},
		{name: "no token", settings: with(func(s *telegram.Settings) { s.BotToken = "" }), field: "bot_token"},
		{name: "token without an id", settings: with(func(s *telegram.Settings) { s.BotToken = "AAHdqTcvCH1vGWJ" }), field: "bot_token"},
		{name: "token with a slash", settings: with(func(s *telegram.Settings) { s.BotToken = "123:AA/sendMessage" }), field: "bot_token"},
		{name: "no chat", settings: with(func(s *telegram.Settings) { s.ChatID = "" }), field: "chat_id"},
		{name: "chat not a number", settings: with(func(s *telegram.Settings) { s.ChatID = "general" }), field: "chat_id"},
		{name: "token in the URL", url: "https://api.telegram.org/bot" + token, settings: valid, field: "url"},
		{name: "query in the URL", url: "https://api.telegram.org/?token=x", settings: valid, field: "url"},
		{name: "template does not parse", settings: with(func(s *telegram.Settings) { s.Template = "{{" }), field: "template"},
		{name: "api key", settings: valid, other: "api_key", field: "api_key"},
		{name: "make's settings object", settings: valid, other: "settings", field: "settings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, _ := json.Marshal(c.settings)
			if c.other != "" {
				st = append(st[:len(st)-1], `,"`+c.other+`":"k"}`...)
			}
			ep := &gateway.Endpoint{Kind: telegram.Kind, URL: c.url, Settings: st}
			err := dev().CheckEndpoint(ep)
			var ve *gateway.ValidationError
			switch {
			case c.field == "" && (err != nil || ep.URL != c.wantURL):
				t.Fatalf("CheckEndpoint = %v with url %q, want nil with url %q", err, ep.URL, c.wantURL)
			case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field):
				t.Fatalf("CheckEndpoint = %v, want a ValidationError on %s", err, c.field)
			}
			if err != nil {
				connectortest.AssertNoSecretLeak(t, gateway.Outcome{Err: err}, token)
			}
		})
	}
}

// The kind masks its own credential: the bot token, keeping its last four characters.
func TestRedactSettings(t *testing.T) {
	in := json.RawMessage(`{"bot_token":"` + token + `","chat_id":"` + chat + `","template":"{{.type}}"}`)
	got := string(dev().RedactSettings(in))
	if want := `{"template":"{{.type}}","chat_id":"` + chat + `","bot_token":"****Dsaw"}`; got != want {
		t.Fatalf("RedactSettings = %s, want %s", got, want)
	}
	if strings.Contains(string(in), "****") {
		t.Fatalf("RedactSettings changed its argument: %s", in)
	}
}
