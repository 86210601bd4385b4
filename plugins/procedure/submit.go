package procedure

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	errkind "github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/sportello/sportello/plugins/sdk"
)

// config is a town's configuration of the service (configSchema).
type config struct {
	Office         string             `json:"office"`
	OfficeEmail    string             `json:"office_email"`
	ProcessingDays int                `json:"processing_days"`
	Opens          string             `json:"opens"`
	Closes         string             `json:"closes"`
	Currency       string             `json:"currency"`
	FeeAmount      *float64           `json:"fee_amount"`
	FeeAmounts     map[string]float64 `json:"fee_amounts"`
}

// dossierData is what the procedure keeps on a dossier: the answers as
// sent, and what later steps need.
type dossierData struct {
	Answers map[string]any `json:"answers"`
	Lang    string         `json:"lang"`
	Channel string         `json:"channel"`
	// Applicant is who applied online, or the member of staff who
	// entered the application.
	Applicant string `json:"applicant,omitempty"`
	FeeCents  int64  `json:"fee_cents,omitempty"`
	Currency  string `json:"currency,omitempty"`
}

// paymentRef is what the procedure remembers of a dossier's payment, in
// the setting paymentKey(dossier).
type paymentRef struct {
	ID     int64  `json:"id"`
	Notice string `json:"notice"`
	Cents  int64  `json:"cents"`
	// Status is the payment's outcome as the host told it (complete,
	// payment_failed, expired, canceled); "" until it has.
	Status string `json:"status,omitempty"`
}

func paymentKey(dossierID int64) string { return fmt.Sprintf("payment.%d", dossierID) }

// onceRef is what the procedure remembers of an application under a
// Unique rule, to refuse a second one and say which dossier has it.
type onceRef struct {
	Number string `json:"number"`
}

// maxTitle is the host's limit on a dossier title.
const maxTitle = 300

func (p *Procedure) submit(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	d, lang := p.def, req.Lang
	switch req.Actor.Kind {
	case "citizen":
		if !d.Who.Citizens {
			return sdk.Refused(msg.Get(lang, "who.staff_only")), nil
		}
	case "staff":
		if !d.Who.Staff {
			return sdk.Refused(msg.Get(lang, "who.no_staff")), nil
		}
	default:
		if !d.Who.Anonymous {
			return sdk.Refused(msg.Get(lang, "who.login")), nil
		}
	}
	var cfg config
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, fmt.Errorf("%s: config: %w", d.ID, err)
	}
	now := p.now()
	if res := p.checkWindow(lang, cfg, now); res != nil {
		return res, nil
	}

	values, err := decodeValues(req.Values)
	if err != nil {
		return nil, fmt.Errorf("%s: values: %w", d.ID, err)
	}
	// The host has checked the form against its schema; checked again
	// here, the rules below can rely on what it promises.
	if errs := p.schemaErrors(lang, req.Values); len(errs) > 0 {
		return invalid(errs), nil
	}
	errs := p.checkFiles(lang, values, req.Files)
	errs = append(errs, p.checkRules(lang, values, now)...)
	errs = append(errs, p.checkEligibility(lang, values, now)...)
	if len(errs) > 0 {
		return invalid(errs), nil
	}

	onceKey := ""
	if u := d.Unique; u != nil {
		if v, ok := lookup(values, u.Field).(string); ok && strings.TrimSpace(v) != "" {
			onceKey = p.onceKey(cfg, v, now)
			var prev onceRef
			found, err := req.Host.GetSetting(ctx, onceKey, &prev)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", onceKey, err)
			}
			if found {
				return sdk.Refused(msg.Get(lang, "once."+u.Per, prev.Number)), nil
			}
		}
	}

	var cents int64
	currency := cfg.currency(d.Fee)
	if f := d.Fee; f != nil && f.On == onSubmit {
		cents = p.feeCents(values, cfg)
	}

	channel := "web"
	if req.Actor.Kind == "staff" {
		channel = "counter"
	}
	var attachments []int64
	for _, f := range req.Files {
		if p.form.fields[f.Field] != nil && p.form.fields[f.Field].widget == "file" {
			attachments = append(attachments, f.AttachmentID)
		}
	}
	days := d.ProcessingDays
	if cfg.ProcessingDays > 0 && cfg.ProcessingDays < days {
		days = cfg.ProcessingDays
	}
	nd := sdk.NewDossier{
		Title:         p.title(lang, values),
		Data:          dossierData{Answers: values, Lang: lang, Channel: channel, Applicant: req.Actor.Name, FeeCents: cents, Currency: currency},
		Status:        d.Statuses[0].ID,
		Channel:       channel,
		Office:        cfg.Office,
		Due:           dueDate(now, days),
		AttachmentIDs: attachments,
	}
	if nd.Office == "" {
		nd.Office = d.Office
	}
	dossier, err := req.Host.CreateDossier(ctx, nd)
	if err != nil && errors.Is(err, sdk.ErrInvalid) && cfg.Office == "" {
		// The definition's office is a convention (tributi, anagrafe); a
		// town without one by that name should still get the dossier,
		// and the host assigns it as the town configured.
		p.log.Warn("default office refused; dossier left to the host", "service", d.ID, "office", nd.Office, "err", err)
		nd.Office = ""
		dossier, err = req.Host.CreateDossier(ctx, nd)
	}
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	number := dossier.GetNumber()
	if onceKey != "" {
		if err := req.Host.PutSetting(ctx, onceKey, onceRef{Number: number}); err != nil {
			return nil, fmt.Errorf("remember %s: %w", onceKey, err)
		}
	}

	done := msg.Get(lang, "submit.done", number, sdk.Date(lang, nd.Due))
	data := map[string]any{"dossier": number, "status": d.Statuses[0].ID, "due": nd.Due.In(sdk.Zone).Format(time.DateOnly)}
	officeNote := ""
	if cents > 0 {
		pay, err := p.charge(ctx, req, lang, dossier.GetId(), number, cents, currency)
		if err != nil {
			// The dossier exists: failing now would have the person apply
			// again. The office learns of it (audit, e-mail, a note when
			// staff entered the application) and sends the notice itself.
			p.log.Warn("payment not created", "service", d.ID, "dossier", number, "err", err)
			officeNote = msg.Get("it", "pay.failed_note", sdk.Money("it", cents, currency))
			if req.Actor.Kind == "staff" {
				p.note(ctx, req, dossier.GetId(), officeNote, true)
			}
			done += " " + msg.Get(lang, "pay.later", sdk.Money(lang, cents, currency))
		} else {
			done += " " + msg.Get(lang, "pay.now", sdk.Money(lang, cents, currency), pay.Notice)
			data["payment"] = map[string]any{"id": pay.ID, "notice_code": pay.Notice, "amount_cents": cents, "currency": currency}
		}
	}
	if err := req.Host.Audit(ctx, d.ID+".submit", "dossier:"+number,
		map[string]any{"channel": channel, "fee_cents": cents, "files": len(attachments), "payment_failed": officeNote != ""}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	subject := msg.Get(lang, "mail.subject", d.Texts[langOf(lang)].Name, number)
	switch to := p.applicantEmail(values); {
	case req.Actor.Kind == "citizen":
		p.notify(ctx, req, sdk.Notification{Channel: "email", Subject: subject, Body: done})
	case to != "":
		p.notify(ctx, req, sdk.Notification{Channel: "email", To: to, Subject: subject, Body: done})
	}
	if cfg.OfficeEmail != "" {
		p.notify(ctx, req, sdk.Notification{Channel: "email", To: cfg.OfficeEmail, Subject: msg.Get("it", "mail.subject", d.Texts["it"].Name, number),
			Body: strings.TrimSpace(msg.Get("it", "mail.office", nd.Title, number, channelName(channel), sdk.Date("it", nd.Due)) + "\n\n" + officeNote)})
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: dossier.GetId(), DossierNumber: number, Data: data}, nil
}

// checkWindow refuses an application outside the town's period.
func (p *Procedure) checkWindow(lang string, cfg config, now time.Time) *sdk.Response {
	w := p.def.Window
	if w == nil {
		return nil
	}
	if w.Required && (cfg.Opens == "" || cfg.Closes == "") {
		return sdk.Refused(msg.Get(lang, "window.unset"))
	}
	today := civil(now)
	if cfg.Opens != "" {
		opens, err := parseDate(cfg.Opens)
		if err != nil {
			return sdk.Refused(msg.Get(lang, "window.unset"))
		}
		if today.Before(opens) {
			return sdk.Refused(msg.Get(lang, "window.not_yet", sdk.Date(lang, opens)))
		}
	}
	if cfg.Closes != "" {
		closes, err := parseDate(cfg.Closes)
		if err != nil {
			return sdk.Refused(msg.Get(lang, "window.unset"))
		}
		// The last day is included, until midnight in the town.
		if today.After(closes) {
			return sdk.Refused(msg.Get(lang, "window.closed", sdk.Date(lang, closes)))
		}
	}
	return nil
}

// onceKey names the setting that remembers an application for value in
// its period. The value is hashed: a fiscal code is no key, and should
// not sit in plain sight in the settings.
func (p *Procedure) onceKey(cfg config, value string, now time.Time) string {
	sum := sha256.Sum256([]byte(p.def.ID + "\x00" + strings.ToUpper(strings.TrimSpace(value))))
	period := "ever"
	switch p.def.Unique.Per {
	case "year":
		period = fmt.Sprint(now.In(sdk.Zone).Year())
	case "window":
		period = cfg.Opens
		if period == "" {
			period = cfg.Closes
		}
	}
	return "once." + period + "." + hex.EncodeToString(sum[:8])
}

// title is the dossier's title: the service and, if the definition says,
// one answer.
func (p *Procedure) title(lang string, values map[string]any) string {
	t := p.def.Texts[langOf(lang)].Name
	if f := p.def.Form.TitleField; f != "" {
		if v := lookup(values, f); v != nil {
			if s := strings.TrimSpace(p.form.fields[f].label(lang, v)); s != "" {
				t += " – " + s
			}
		}
	}
	if utf8.RuneCountInString(t) > maxTitle {
		t = string([]rune(t)[:maxTitle-1]) + "…"
	}
	return t
}

// applicantEmail is where a confirmation goes for someone without an
// address on file: the form's e-mail field.
func (p *Procedure) applicantEmail(values map[string]any) string {
	if p.def.Form.EmailField == "" {
		return ""
	}
	s, _ := lookup(values, p.def.Form.EmailField).(string)
	return strings.TrimSpace(s)
}

func (c config) currency(f *Fee) string {
	if c.Currency != "" {
		return c.Currency
	}
	if f != nil {
		return currencyOf(f)
	}
	return "EUR"
}

// feeCents prices the answers: the town's amount (or the definition's),
// times each factor. A factor not answered counts as none.
func (p *Procedure) feeCents(values map[string]any, cfg config) int64 {
	f := p.def.Fee
	var amount float64
	if f.Amount != nil {
		amount = *f.Amount
		if cfg.FeeAmount != nil {
			amount = *cfg.FeeAmount
		}
	} else {
		choice := fmt.Sprint(lookup(values, f.By.Field))
		amount = f.By.Amounts[choice]
		if v, ok := cfg.FeeAmounts[choice]; ok {
			amount = v
		}
	}
	for _, t := range f.Times {
		switch v := lookup(values, t).(type) {
		case json.Number:
			n, _ := v.Float64()
			amount *= n
		case []any:
			amount *= float64(len(v))
		default:
			amount = 0
		}
	}
	if b := f.DaysBetween; len(b) == 2 {
		first, err1 := parseDate(fmt.Sprint(lookup(values, b[0])))
		last, err2 := parseDate(fmt.Sprint(lookup(values, b[1])))
		if err1 != nil || err2 != nil || last.Before(first) {
			return 0
		}
		amount *= float64(daysBetween(first, last) + 1)
	}
	if amount <= 0 || math.IsNaN(amount) {
		return 0
	}
	return int64(math.Round(amount * 100))
}

// charge opens the payment and remembers it for the dossier.
func (p *Procedure) charge(ctx context.Context, req *sdk.Request, lang string, dossierID int64, number string, cents int64, currency string) (paymentRef, error) {
	reason := p.def.Fee.Reason.In(lang) + " " + number
	pay, err := req.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: cents, Currency: currency, Reason: reason, DossierID: dossierID})
	if err != nil {
		return paymentRef{}, fmt.Errorf("create payment: %w", err)
	}
	ref := paymentRef{ID: pay.GetId(), Notice: pay.GetNoticeCode(), Cents: cents}
	if err := req.Host.PutSetting(ctx, paymentKey(dossierID), ref); err != nil {
		return ref, fmt.Errorf("remember payment: %w", err)
	}
	return ref, nil
}

// note adds a message to a dossier; a failure is logged, not fatal: what
// it reports has already happened.
func (p *Procedure) note(ctx context.Context, req *sdk.Request, dossierID int64, body string, internal bool) {
	if _, err := req.Host.AddDossierMessage(ctx, dossierID, body, internal); err != nil {
		p.log.Warn("dossier message not added", "service", p.def.ID, "dossier", dossierID, "request_id", req.RequestID, "err", err)
	}
}

// notify queues a message; the application stands whatever happens to it.
func (p *Procedure) notify(ctx context.Context, req *sdk.Request, n sdk.Notification) {
	if _, err := req.Host.Notify(ctx, n); err != nil {
		p.log.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
}

func invalid(errs []sdk.FieldError) *sdk.Response {
	return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}
}

// decodeValues reads the form with numbers kept as written.
func decodeValues(raw json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// lookup is the answer at pointer (/a or /a/b); nil if not given.
func lookup(values map[string]any, pointer string) any {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	var cur any = values
	for _, part := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// schemaErrors checks the values against the form, each problem beside
// its field.
func (p *Procedure) schemaErrors(lang string, raw json.RawMessage) []sdk.FieldError {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage(`{}`)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []sdk.FieldError{{Field: p.form.order[0], Message: msg.Get(lang, "form.invalid")}}
	}
	err = p.schema.Validate(doc)
	var verr *jsonschema.ValidationError
	if err == nil || !errors.As(err, &verr) {
		return nil
	}
	seen := map[string]bool{}
	var out []sdk.FieldError
	add := func(loc []string, key string) {
		field := p.fieldOf(loc)
		if seen[field] {
			return
		}
		seen[field] = true
		out = append(out, sdk.FieldError{Field: field, Message: msg.Get(lang, key)})
	}
	for _, leaf := range leaves(verr, nil) {
		loc := leaf.InstanceLocation
		switch k := leaf.ErrorKind.(type) {
		case *errkind.Required:
			for _, missing := range k.Missing {
				add(append(loc[:len(loc):len(loc)], missing), "form.required")
			}
			continue
		case *errkind.Const:
			add(loc, "form.accept")
			continue
		}
		add(loc, "form.invalid")
	}
	return out
}

// fieldOf is the form field an instance location falls in (an array's
// item belongs to the array); the first field if none does.
func (p *Procedure) fieldOf(loc []string) string {
	for n := len(loc); n > 0; n-- {
		ptr := "/" + strings.Join(loc[:n], "/")
		if p.form.fields[ptr] != nil {
			return ptr
		}
	}
	return p.form.order[0]
}

func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// dueDate is the end of the last day of the processing time, in the town.
func dueDate(now time.Time, days int) time.Time {
	d := civil(now).AddDate(0, 0, days+1)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, sdk.Zone).Add(-time.Second)
}

// civil is the day of t in the town, at midnight.
func civil(t time.Time) time.Time {
	t = t.In(sdk.Zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, sdk.Zone)
}

// daysBetween counts calendar days, whatever daylight saving does to hours.
func daysBetween(a, b time.Time) int {
	ua := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	ub := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(ub.Sub(ua).Hours() / 24)
}

func parseDate(s string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, sdk.Zone)
}

func langOf(lang string) string {
	l, _, _ := strings.Cut(strings.ToLower(lang), "-")
	for _, x := range sdk.Languages {
		if x == l {
			return l
		}
	}
	return "it"
}

func channelName(channel string) string {
	if channel == "counter" {
		return msg.Get("it", "channel.counter")
	}
	return msg.Get("it", "channel.web")
}
