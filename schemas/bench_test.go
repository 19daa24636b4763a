package schemas_test

import (
	"encoding/json"
	"testing"
)

// videoPosted is a TokPortal video.posted data object of about 1 KiB: the documented fields
// plus the extra fields a provider adds (schemas allow them).
var videoPosted = json.RawMessage(`{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok",` +
	`"post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455",` +
	`"posted_at":"2026-06-24T14:00:05Z","caption":"Friday recap: five things we shipped this week, from the new editor to faster uploads. Which one do you want next? #acme #buildinpublic #saas #productivity #friday",` +
	`"hashtags":["acme","buildinpublic","saas","productivity","friday"],"sound":{"id":"snd_7a1","title":"Original sound - acme.daily","author":"acme.daily"},` +
	`"location":{"name":"San Francisco, California","country":"US"},"device":{"model":"iPhone 13","os":"iOS 17.4"},` +
	`"campaign":{"id":"cmp_2026_q2_launch","name":"Q2 launch, week 3","client":"Acme Inc."},"scheduled_at":"2026-06-24T14:00:00Z",` +
	`"duration_seconds":37,"cover_url":"https://cdn.example.com/covers/v_51d0e2.jpg","metrics":{"views":0,"likes":0,"comments":0,"shares":0}}`)

func BenchmarkValidateVideoPosted(b *testing.B) {
	c := newCatalog(b)
	if n := len(videoPosted); n < 900 || n > 1200 {
		b.Fatalf("body is %d bytes, want about 1 KiB", n)
	}
	if err := c.Validate("video.posted", videoPosted); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(videoPosted)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Validate("video.posted", videoPosted); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateVideoPostedParallel(b *testing.B) {
	c := newCatalog(b)
	b.SetBytes(int64(len(videoPosted)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Validate("video.posted", videoPosted); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		newCatalog(b)
	}
}
