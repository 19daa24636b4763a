package schemas_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookgate/hookgate/schemas"
)

func ExampleCatalog_Validate() {
	cat, err := schemas.New()
	if err != nil {
		panic(err)
	}
	err = cat.Validate("analytics.snapshot", json.RawMessage(`{"video_id":"v_1","platform":"tiktok","views":"lots","likes":1,"comments":0,"shares":0,"reach":9}`))
	var ve *schemas.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve)
		fmt.Println(ve.Pointer, ve.Keyword)
	}
	err = cat.Validate("order.paid", json.RawMessage(`{}`))
	fmt.Println(errors.Is(err, schemas.ErrUnknownType))
	// Output:
	// /data/views: expected integer, got string
	// /data/views type
	// true
}

func ExampleCatalog_Add() {
	cat, err := schemas.New()
	if err != nil {
		panic(err)
	}
	_, err = cat.Add("order.paid", "An order was paid", json.RawMessage(`{"type":"object","properties":{"total":{"type":"nmber"}}}`))
	fmt.Println(err)
	// Output:
	// schema/properties/total/type: value must be one of "array", "boolean", "integer", "null", "number", "object", "string"
}

func ExampleExportSchema() {
	// A body that is not the envelope, such as what a jq mapping makes of an event: with no
	// schema, one is inferred from the sample.
	out, err := schemas.ExportSchema(nil, json.RawMessage(`{"text":"v_1 is live","at":"2026-06-24T14:00:05Z","tags":["tiktok"]}`), schemas.FormatZapier)
	if err != nil {
		panic(err)
	}
	var z struct {
		OutputFields []struct {
			Key, Type string
			List      bool
		}
	}
	json.Unmarshal(out, &z)
	for _, f := range z.OutputFields {
		fmt.Println(f.Key, f.Type, f.List)
	}
	// Output:
	// text string false
	// at datetime false
	// tags string true
}

func Example() {
	cat, err := schemas.New()
	if err != nil {
		panic(err)
	}
	err = cat.Validate("video.posted", json.RawMessage(`{"video_id":"v_1","platform":"tiktok","post_id":"7"}`))
	var ve *schemas.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve)
		fmt.Println(ve.Keyword)
	}
	ping, _ := cat.Lookup("ping")
	theirs, _ := cat.LookupFrom("tinyposter", "ping")
	fmt.Println(ping.Provider, theirs.Provider)
	// Output:
	// /data/post_url: missing required property (also missing: posted_at)
	// required
	// hookgate tinyposter
}
