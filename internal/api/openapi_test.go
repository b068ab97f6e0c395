package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEveryRouteIsDescribedInTheOpenAPIDocument(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	described := 0
	for _, rt := range Routes() {
		ops, ok := doc.Paths[apiPrefix+rt.Path]
		if !ok {
			t.Errorf("%s %s is missing from openapi.json", rt.Method, rt.Path)
			continue
		}
		if _, ok := ops[strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s: openapi.json describes the path but not the method", rt.Method, rt.Path)
		}
		described++
	}
	total := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			total++
			found := false
			for _, rt := range Routes() {
				found = found || (apiPrefix+rt.Path == path && strings.EqualFold(rt.Method, method))
			}
			if !found {
				t.Errorf("openapi.json describes %s %s, which no route serves", method, path)
			}
		}
	}
	if described != len(Routes()) || total != described {
		t.Errorf("%d routes, %d described, %d operations in the document", len(Routes()), described, total)
	}
}
