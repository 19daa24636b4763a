package dashboard

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// funcs are the helpers the templates use.
var funcs = template.FuncMap{
	"join":  strings.Join,
	"bytes": func(n uint64) string { return gateway.FormatBytes(n) },
	"pct":   func(r *float64) float64 { return *r * 100 },
	"ts": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04:05")
		case *time.Time:
			if v != nil {
				return v.UTC().Format("2006-01-02 15:04:05")
			}
		}
		return ""
	},
	"last": func(as []gateway.Attempt) *gateway.Attempt {
		if len(as) == 0 {
			return nil
		}
		return &as[len(as)-1]
	},
}

// mustParse parses each page template with the layout. The templates are embedded in the
// binary, so an error is a programming error, caught by every test that builds a dashboard.
func mustParse() map[string]*template.Template {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			panic(fmt.Sprintf("dashboard template %s: %v", n, err))
		}
		pages[name] = t
	}
	return pages
}
