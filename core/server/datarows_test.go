package server

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/sportello/sportello/core/catalog"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/web"
)

// A concession request's form, as a plugin's manifest carries it.
const concessionForm = `{
  "type": "object",
  "x-order": ["place", "start", "holder", "beneficiaries", "consent", "certificate"],
  "properties": {
    "place": {"type": "string", "title": "Tipo di posto", "x-title": {"en": "Kind of place"},
      "enum": ["niche", "tomb"], "x-enum-titles": {"it": ["Loculo", "Tomba di famiglia"], "en": ["Niche", "Family tomb"]}},
    "start": {"type": "string", "format": "date", "title": "Inizio"},
    "holder": {"type": "object", "title": "Titolare", "x-order": ["name", "phone"],
      "properties": {"name": {"type": "string", "title": "Nome"}, "phone": {"type": "string", "title": "Telefono"}}},
    "beneficiaries": {"type": "array", "title": "Beneficiari",
      "items": {"type": "object", "x-order": ["name", "born"], "properties": {"name": {"type": "string", "title": "Nome"}, "born": {"type": "string", "format": "date", "title": "Nato il"}}}},
    "consent": {"type": "boolean", "title": "Consenso"},
    "certificate": {"type": "string", "title": "Certificato", "x-widget": "file"}
  }
}`

func TestDataRows(t *testing.T) {
	rec := &catalog.Record{ID: "cemetery", Manifest: &pb.Manifest{Forms: []*pb.Form{{Id: "request", SchemaJson: []byte(concessionForm)}}}}
	for _, tc := range []struct {
		name        string
		data        string
		lang        string
		answersOnly bool
		want        []web.DataRow
	}{
		{"answers worded as the form words them, bookkeeping after them for staff",
			`{"fee_cents": 120000, "lang": "it", "certificate": "17", "consent": true, "place": "niche", "start": "2026-03-01",
			  "holder": {"phone": "+39 02 1", "name": "Anna Rossi"},
			  "beneficiaries": [{"name": "Carlo Rossi", "born": "1940-05-02"}, {"name": "Maria Bianchi"}]}`, "it", false,
			[]web.DataRow{
				{Label: "Tipo di posto", Value: "Loculo"},
				{Label: "Inizio", Value: "1\u00a0marzo 2026"},
				{Label: "Titolare – Nome", Value: "Anna Rossi"},
				{Label: "Titolare – Telefono", Value: "+39 02 1"},
				{Label: "Beneficiari", Value: "Nome: Carlo Rossi; Nato il: 2\u00a0maggio 1940 · Nome: Maria Bianchi"},
				{Label: "Consenso", Value: "✓"},
				{Label: "fee cents", Value: "120000"},
			}},
		{"a citizen sees only their answers, in their language",
			`{"fee_cents": 120000, "place": "tomb"}`, "en", true,
			[]web.DataRow{{Label: "Kind of place", Value: "Family tomb"}}},
		{"answers a procedure keeps under a key of its own",
			`{"answers": {"place": "niche", "consent": false}, "submitted_on": "2026-03-01"}`, "it", false,
			[]web.DataRow{{Label: "Tipo di posto", Value: "Loculo"}, {Label: "Consenso", Value: "—"}, {Label: "submitted on", Value: "2026-03-01"}}},
		{"a fieldset the plugin keeps flat is still the person's answer",
			`{"name": "Anna Rossi", "phone": "+39 02 1", "place": "tomb", "lang": "it"}`, "it", true,
			[]web.DataRow{{Label: "Tipo di posto", Value: "Tomba di famiglia"}, {Label: "Titolare – Nome", Value: "Anna Rossi"},
				{Label: "Titolare – Telefono", Value: "+39 02 1"}}},
		{"a value the form does not offer is shown as it is", `{"place": "ossuary"}`, "it", true,
			[]web.DataRow{{Label: "Tipo di posto", Value: "ossuary"}}},
		{"no data", `{}`, "it", false, nil},
		{"not an object", `[1, 2]`, "it", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dataRows(rec, tc.lang, json.RawMessage(tc.data), tc.answersOnly)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	if got := dataRows(nil, "it", json.RawMessage(`{"a_b": 1}`), false); !slices.Equal(got, []web.DataRow{{Label: "a b", Value: "1"}}) {
		t.Errorf("without a manifest: %q", got)
	}
}
