package sdk_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// FuzzParseManifest feeds arbitrary YAML to the manifest parser, which
// reads what a plugin author wrote and hands the host the contract's
// message. It must never panic, and a manifest it accepts must be one the
// host can rely on: every form and the configuration are object schemas
// with their fields in order, every action names a form it has, and
// the message survives the catalogue's JSON (protojson) unchanged.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	seeds, _ := filepath.Glob("../*/manifest.yaml")
	if len(seeds) == 0 {
		f.Fatal("no plugin manifest to seed from")
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"id: [",
		"id: x\nid: y\n",
		"forms:\n  - schema: {type: object, properties: {a: {$ref: 'file:///etc/passwd'}}}\n",
		"forms:\n  - {id: a, title: {it: A}, schema: {type: object, properties: {a: {type: string, pattern: '('}}}}\n",
		"config_schema: {type: object, properties: &p {a: *p}}\n",
		"texts: {it: {name: x, summary: y}, xx: {name: z}}\nstatuses: [{id: A}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := sdk.ParseManifest(data)
		if err != nil {
			if m != nil {
				t.Fatalf("an error (%v) and a manifest", err)
			}
			if !strings.HasPrefix(err.Error(), "manifest: ") {
				t.Fatalf("error %q does not say it is the manifest's", err)
			}
			return
		}
		if m.GetTexts()["it"].GetName() == "" || m.GetProtocol() != sdk.ProtocolVersion {
			t.Fatalf("accepted without an Italian name or the protocol: %v", m)
		}
		forms := map[string]bool{}
		for _, fm := range m.GetForms() {
			forms[fm.GetId()] = true
			checkSchema(t, "form "+fm.GetId(), fm.GetSchemaJson())
		}
		if len(m.GetConfigSchemaJson()) > 0 {
			checkSchema(t, "config", m.GetConfigSchemaJson())
		}
		for _, a := range m.GetActions() {
			if a.GetFormId() != "" && !forms[a.GetFormId()] {
				t.Fatalf("action %s names form %q, which is not there", a.GetId(), a.GetFormId())
			}
		}
		// The catalogue stores the manifest as protojson and reads it back.
		stored, err := protojson.Marshal(m)
		if err != nil {
			t.Fatalf("an accepted manifest cannot be stored: %v", err)
		}
		back := &pb.Manifest{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(stored, back); err != nil {
			t.Fatalf("a stored manifest cannot be read back: %v", err)
		}
		if !proto.Equal(m, back) {
			t.Fatalf("the manifest changed through the catalogue:\n%v\n%v", m, back)
		}
	})
}

// checkSchema: what the host draws a page from is an object schema (that
// compiles: the parser compiled it) saying in which order its fields come.
func checkSchema(t *testing.T, what string, schema []byte) {
	t.Helper()
	var top struct {
		Type       any                        `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Order      json.RawMessage            `json:"x-order"`
	}
	if err := json.Unmarshal(schema, &top); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if top.Type != "object" || top.Properties == nil {
		t.Fatalf("%s: accepted a schema that is no object with properties: %s", what, schema)
	}
	if len(top.Properties) > 0 && top.Order == nil {
		t.Fatalf("%s: no x-order: %s", what, schema)
	}
}
