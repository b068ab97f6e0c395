package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/api"
)

// TestOpenAPIListsTheBodyRefusalsHandlersGive sends every route that takes
// a body a wrong content type and an oversized body, as the channel's owner
// and an admin, and checks that a 415 or 413 answer is documented.
func TestOpenAPIListsTheBodyRefusalsHandlersGive(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	ts := start(t, "")
	admin := ts.admin(t, "doc-admin@example.com")
	admin.createChannel(t, "owned", "music")
	limit := func(rt api.Route) int {
		if rt.Body > 0 {
			return int(rt.Body)
		}
		return 64 << 10
	}
	seen := map[string]bool{}
	for _, rt := range api.Routes() {
		if rt.Method == "GET" || rt.Method == "DELETE" || rt.Path == "/auth/signout" {
			continue
		}
		path := "/api/v1" + strings.ReplaceAll(fill(rt.Path), "{name}", "wave")
		documented := doc.Paths["/api/v1"+rt.Path][strings.ToLower(rt.Method)].Responses
		name := rt.Method + " " + rt.Path
		wrongType := admin.do(t, req{method: rt.Method, path: path, body: "<x/>", contentType: "text/xml",
			header: map[string]string{"Idempotency-Key": "doc-check-415"}})
		if wrongType.status == http.StatusUnsupportedMediaType {
			seen["415"] = true
			if _, ok := documented["415"]; !ok {
				t.Errorf("%s answers 415 to a text/xml body; openapi.json does not list 415", name)
			}
		}
		big := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), limit(rt)+1)...)
		tooBig := admin.do(t, req{method: rt.Method, path: path, body: append(big, `"}`...), contentType: "application/json",
			header: map[string]string{"Idempotency-Key": "doc-check-413"}})
		if tooBig.status == http.StatusRequestEntityTooLarge {
			seen["413"] = true
			if _, ok := documented["413"]; !ok {
				t.Errorf("%s answers 413 to a body over %d bytes; openapi.json does not list 413", name, limit(rt))
			}
		}
	}
	if !seen["415"] || !seen["413"] {
		t.Errorf("no route answered 415 (%v) or 413 (%v): the probe is broken", seen["415"], seen["413"])
	}
}
