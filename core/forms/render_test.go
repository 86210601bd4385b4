package forms

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"

	"github.com/sportello/sportello/web"
)

// testPage draws the partials inside a page, as a service page will.
const testPage = `{{define "content"}}
<div class="container">
  <h1 id="page-title">Modulo</h1>
  <form method="post" action="{{path "/modulo"}}">
    {{template "csrf" .}}
    {{template "form_error_summary" .Data}}
    {{template "form_fields" .Data}}
    <button type="submit" class="btn btn-primary">Invia</button>
  </form>
</div>
{{end}}`

func renderFields(t *testing.T, lang string, fields []web.Field) string {
	t.Helper()
	r, err := web.NewRenderer(web.Options{Pages: fstest.MapFS{"form_test.html": {Data: []byte(testPage)}}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = r.Render(&b, &web.Page{Name: "form_test", Lang: lang, Base: "/t/lugano", CSRF: "tok",
		Tenant: &web.Tenant{Slug: "lugano", Name: "Lugano"}, Data: fields})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// node is an element of the drawn page, with what the checks need.
type node struct {
	tag      string
	attr     map[string]string
	text     string // all the text inside
	hidden   string // the text of .visually-hidden descendants
	fieldset *node  // the nearest enclosing fieldset
	legend   string // that fieldset's legend text
}

func (n *node) has(class string) bool { return slices.Contains(strings.Fields(n.attr["class"]), class) }

func parsePage(t *testing.T, out string) []*node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*node
	var text func(n *html.Node, onlyHidden bool) string
	text = func(n *html.Node, onlyHidden bool) string {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode && !onlyHidden:
				b.WriteString(c.Data)
			case c.Type == html.ElementNode:
				inner := onlyHidden
				for _, a := range c.Attr {
					if a.Key == "class" && slices.Contains(strings.Fields(a.Val), "visually-hidden") {
						inner = false
					}
				}
				b.WriteString(text(c, inner))
			}
		}
		return b.String()
	}
	var walk func(n *html.Node, fs *node)
	walk = func(n *html.Node, fs *node) {
		if n.Type == html.ElementNode {
			e := &node{tag: n.Data, attr: map[string]string{}, fieldset: fs}
			for _, a := range n.Attr {
				e.attr[a.Key] = a.Val
			}
			e.text = strings.Join(strings.Fields(text(n, false)), " ")
			e.hidden = strings.TrimSpace(text(n, true))
			nodes = append(nodes, e)
			if n.Data == "fieldset" {
				fs = e
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && c.Data == "legend" {
						e.legend = strings.Join(strings.Fields(text(c, false)), " ")
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, fs)
		}
	}
	walk(doc, nil)
	return nodes
}

// TestRenderFormFields draws testSchema's fields with errors through the
// web renderer and checks what makes the form usable with a screen reader.
func TestRenderFormFields(t *testing.T) {
	f := testForm(t)
	for _, lang := range []string{"it", "de", "en"} {
		t.Run(lang, func(t *testing.T) {
			v := validPost()
			v.Set("age", "12a")
			v.Set("fiscal_code", "abc")
			v.Del("privacy")
			v.Del("size")
			v["services"] = []string{"water", "gas"}
			v.Set("address.zip", "x")
			v.Set("notes", "<b>ciao</b>")
			doc, errs := f.Submit(v, lang)
			fields := f.Fields(lang, doc, errs)
			out := renderFields(t, lang, fields)
			checkForm(t, out, fields, errs)
			marker := map[string]string{"it": "(obbligatorio)", "de": "(Pflichtfeld)", "en": "(required)"}[lang]
			for _, want := range []string{marker, `value="12a"`, "&lt;b&gt;ciao&lt;/b&gt;</textarea>", `name="_csrf" value="tok"`,
				`pattern="^[A-Z0-9]{16}$"`, `href="#field-age"`, `type="datetime-local"`} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if strings.Contains(out, "ZgotmplZ") || strings.Contains(out, ">forms.") || strings.Contains(out, "form.choose") {
				t.Errorf("output has an escaping accident or a message id")
			}
		})
	}
	t.Run("no errors, no summary", func(t *testing.T) {
		out := renderFields(t, "it", f.Fields("it", nil, nil))
		checkForm(t, out, f.Fields("it", nil, nil), nil)
		if strings.Contains(out, "alert-danger") || strings.Contains(out, "aria-invalid") || strings.Contains(out, "invalid-feedback") {
			t.Errorf("a form without errors shows some")
		}
		if !strings.Contains(out, `name="token" value="t-1"`) || !strings.Contains(out, `value="true" checked`) {
			t.Errorf("defaults not drawn")
		}
	})
}

func checkForm(t *testing.T, out string, fields []web.Field, errs FieldErrors) {
	t.Helper()
	nodes := parsePage(t, out)
	byID := map[string]*node{}
	labels := map[string]*node{}
	described := map[string]bool{}
	for _, n := range nodes {
		if id := n.attr["id"]; id != "" {
			if byID[id] != nil {
				t.Errorf("id %q used twice", id)
			}
			byID[id] = n
		}
		if n.tag == "label" {
			labels[n.attr["for"]] = n
		}
		for _, id := range strings.Fields(n.attr["aria-describedby"]) {
			described[id] = true
		}
	}
	for id := range described {
		if byID[id] == nil {
			t.Errorf("aria-describedby names %q, which is no element", id)
		}
	}
	for _, n := range nodes {
		switch n.tag {
		case "input", "select", "textarea":
		default:
			continue
		}
		typ := n.attr["type"]
		if typ == "hidden" {
			continue
		}
		if n.attr["id"] == "" || labels[n.attr["id"]] == nil || labels[n.attr["id"]].text == "" {
			t.Errorf("<%s name=%q> has no label", n.tag, n.attr["name"])
		}
		if (typ == "radio" || (typ == "checkbox" && n.attr["value"] != "true")) && (n.fieldset == nil || n.fieldset.legend == "") {
			t.Errorf("option %q of group %q is not in a fieldset with a legend", n.attr["value"], n.attr["name"])
		}
		if n.has("is-invalid") != (n.attr["aria-invalid"] == "true") && typ != "radio" && typ != "checkbox" {
			t.Errorf("<%s name=%q>: is-invalid and aria-invalid disagree", n.tag, n.attr["name"])
		}
	}
	for _, n := range nodes {
		if n.has("invalid-feedback") && !described[n.attr["id"]] {
			t.Errorf("error %q (#%s) is not named by any aria-describedby", n.text, n.attr["id"])
		}
	}
	var check func(fd web.Field)
	check = func(fd web.Field) {
		if fd.Widget == "hidden" {
			return
		}
		for _, c := range fd.Children {
			check(c)
		}
		ctl := byID[fd.ID]
		if ctl == nil {
			t.Errorf("field %s: no element #%s", fd.Name, fd.ID)
			return
		}
		group := ctl.tag == "fieldset"
		if group && (ctl.legend == "" || !strings.Contains(ctl.legend, fd.Label)) {
			t.Errorf("field %s: fieldset without its legend", fd.Name)
		}
		if fd.Error != "" {
			e := byID[fd.ErrorID]
			if e == nil || e.text != fd.Error {
				t.Errorf("field %s: error %q not drawn at #%s", fd.Name, fd.Error, fd.ErrorID)
			}
			if !slices.Contains(strings.Fields(ctl.attr["aria-describedby"]), fd.ErrorID) {
				t.Errorf("field %s: #%s is not described by its error", fd.Name, fd.ID)
			}
			if !group && ctl.attr["aria-invalid"] != "true" {
				t.Errorf("field %s: no aria-invalid", fd.Name)
			}
		}
		if fd.Help != "" && !slices.Contains(strings.Fields(ctl.attr["aria-describedby"]), fd.HelpID) {
			t.Errorf("field %s: #%s is not described by its help", fd.Name, fd.ID)
		}
		if fd.Required {
			name := labels[fd.ID]
			if group {
				name = &node{hidden: ctl.legend, text: ctl.legend}
				for _, n := range nodes {
					if n.tag == "legend" && n.text == ctl.legend {
						name = n
					}
				}
			}
			if name == nil || !strings.HasPrefix(name.hidden, "(") {
				t.Errorf("field %s: the required marker has no text for screen readers", fd.Name)
			}
			_, req := ctl.attr["required"]
			if !group && !req {
				t.Errorf("field %s: required but no required attribute", fd.Name)
			}
		}
	}
	for _, fd := range fields {
		check(fd)
	}
	for name := range errs {
		if name != "" && !strings.Contains(out, `id="field-`+name+`-error"`) {
			t.Errorf("error of %q is not drawn", name)
		}
	}
}
