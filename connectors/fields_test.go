package connectors_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/gateway"
)

// Each kind's SettingsFields names settings the kind reads (CheckEndpoint does not refuse
// them as unused), each labelled and explained, and marks Secret exactly those its
// answers mask.
func TestKindsDescribeTheirSettings(t *testing.T) {
	const value = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	for kind, s := range connectors.Senders(connectors.Options{}) {
		d, ok := s.(gateway.SettingsDescriber)
		if !ok {
			continue
		}
		fields := d.SettingsFields()
		if len(fields) == 0 {
			t.Errorf("%s describes no settings", kind)
		}
		for _, f := range fields {
			if f.Key == "" || f.Label == "" || f.Help == "" {
				t.Errorf("%s: field %+v lacks a key, label or help", kind, f)
			}
			settings, _ := json.Marshal(map[string]string{f.Key: value})
			ep := &gateway.Endpoint{ID: "ep_1", Kind: kind, URL: "https://example.com/hook", EndpointSettings: gateway.EndpointSettings{}, Settings: settings}
			var ve *gateway.ValidationError
			if err := s.(gateway.SettingsChecker).CheckEndpoint(ep); errors.As(err, &ve) && ve.Field == f.Key && strings.Contains(ve.Message, "is not used") {
				t.Errorf("%s describes %s, which it does not read: %v", kind, f.Key, err)
			}
			masked := false
			if r, ok := s.(gateway.SettingsRedactor); ok {
				masked = !strings.Contains(string(r.RedactSettings(settings)), value)
			}
			if masked != f.Secret {
				t.Errorf("%s.%s: Secret %v, but answers mask it: %v", kind, f.Key, f.Secret, masked)
			}
		}
	}
}
