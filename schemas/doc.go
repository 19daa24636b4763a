// Package schemas is hookgate's event catalog: one JSON Schema (draft 2020-12) per event type
// of every provider hookgate speaks (TokPortal, Upload-Post, Oktopost, tinyposter) plus
// hookgate's own meta events, embedded in the binary from catalog/<provider>/<type>.json;
// validation of an event's data against its type; custom types that operators add at run
// time; and exports that let no-code builders map fields without guessing: the JSON Schema, a
// sample envelope, Zapier output fields, a Make data structure and an OpenAPI 3.1 document.
//
// A schema describes the envelope's data as hookgate stores it after mapping a provider's
// payload, not the provider's raw payload; README.md in this folder gives the mapping field
// by field. The envelope itself is
//
//	{"id":"evt_…","type":"video.posted","source":"tokportal","created":"2026-06-24T14:00:05.123Z","data":{…}}
//
// # Names
//
// Type names are the providers' own ("video.posted", "upload_completed", "postSent"). The
// catalog is keyed by name; when several providers define the same name, a bare name
// resolves to hookgate's own type first, then to a built-in provider's (in alphabetical
// order of provider), then to a custom type. Today only "ping" is shared: a bare "ping" is
// hookgate's test event, and LookupProvider("tinyposter", "ping") reaches tinyposter's.
// LookupFrom and ValidateFrom pick the source's own type when it has one, which is what an
// inbound webhook wants: a ping that arrives from tinyposter is checked against tinyposter's.
//
// # Example
//
//	cat, err := schemas.New() // loads and compiles every embedded schema, once
//	if err != nil {
//		return err
//	}
//	err = cat.Validate("video.posted", json.RawMessage(`{"video_id":"v_1","platform":"tiktok","post_id":"7"}`))
//	var ve *schemas.ValidationError
//	if errors.As(err, &ve) {
//		fmt.Println(ve)         // /data/post_url: missing required property (also missing: posted_at)
//		fmt.Println(ve.Keyword) // required
//	}
//	zap, err := cat.Export("video.posted", schemas.FormatZapier) // {"outputFields":[…],"sample":{…}}
//
// A Catalog is safe for concurrent use; the *Type values it hands out are shared and must be
// treated as read-only.
package schemas
