package web

import (
	"strings"
	"testing"
	"time"
)

// backofficeSamples adds the samples of the back office's and the
// citizen area's pages; tp makes a page of the sample town.
func backofficeSamples(pages map[string]*Page, tp func(name, title string, u *User, data any) *Page, staff, citizen *User) {
	at := time.Date(2026, time.March, 2, 10, 30, 0, 0, time.UTC)
	view := DossierView{ID: 42, Number: "2026-000042", Title: "Cambio di indirizzo", ServiceID: "helpdesk", Service: "Segnalazioni",
		StatusID: "in_progress", Status: "In lavorazione", Channel: "Telefono", PriorityID: "high", Priority: "Alta",
		Office: "Controllo abitanti", Assignee: "Marco Rezzonico", Created: at, Updated: at, Version: 3,
		Applicant: ApplicantView{Name: "Anna Rossi", Email: "anna.rossi@example.org", FiscalCode: "RSSNNA80A41F205X", Phone: "+41 79 123 45 67", Account: true}}
	file := AttachmentView{ID: 7, Name: "documento.pdf", Type: "application/pdf", Size: "120 KB", By: "Anna Rossi", At: at,
		URL: "/t/lugano/backoffice/requests/42/attachments/7"}
	timeline := []TimelineEntry{
		{At: at, Kind: "opened", Actor: "Anna Rossi", Text: "Pratica aperta: Inviata"},
		{At: at.Add(time.Hour), Kind: "note", Actor: "Marco Rezzonico", Text: "Nota interna", Body: "Chiamare dopo le 14.", Internal: true},
		{At: at.Add(2 * time.Hour), Kind: "reply", Actor: "Marco Rezzonico", Text: "Messaggio", Body: "Le scriviamo entro venerdì."},
		{At: at.Add(3 * time.Hour), Kind: "attached", Actor: "Anna Rossi", Text: "Allegato aggiunto: documento.pdf", Attachment: &file},
	}
	opts := func(sel string, vl ...string) []Option {
		var out []Option
		for i := 0; i+1 < len(vl); i += 2 {
			out = append(out, Option{Value: vl[i], Label: vl[i+1], Selected: vl[i] == sel})
		}
		return out
	}
	intake := &IntakeData{PostURL: "/t/lugano/backoffice/new", ChooseURL: "/t/lugano/backoffice/new",
		Channels: opts("phone", "phone", "Telefono", "counter", "Sportello"),
		Services: opts("helpdesk/submit", "", "Richiesta generica", "helpdesk/submit", "Segnalazioni"),
		Intake:   IntakeForm{Channel: "phone", Name: "Anna Rossi", Email: "non-valida"},
		Service:  "Segnalazioni", Action: "helpdesk/submit", Multipart: true,
		Fields: []Field{
			{Name: "place", ID: "field-place", Label: "Luogo", Widget: "input", InputType: "text", Required: true, Value: "Via Nassa"},
			{Name: "photo", ID: "field-photo", Label: "Fotografia", Widget: "file", Accept: "image/jpeg,image/png", Value: "12", FileName: "buca.jpg",
				Help: "Formati accettati: JPEG, PNG.", HelpID: "field-photo-help", Error: "Il file è troppo grande: al massimo 2 MB.",
				ErrorID: "field-photo-error", DescribedBy: "field-photo-help field-photo-error"},
		},
		Errors: FieldErrors{"_email": "E-mail del richiedente: valore non valido."}}
	pages["backoffice_dossier"] = tp("backoffice_dossier", "2026-000042", staff, &DossierPageData{
		Dossier: view, Timeline: timeline, Attachments: []AttachmentView{file},
		Data:    []DataRow{{Label: "Argomento", Value: "Anagrafe e certificati"}, {Label: "Messaggio", Value: "Ho cambiato casa."}},
		Version: 3, URL: "/t/lugano/backoffice/requests/42", BackURL: "/t/lugano/backoffice",
		Statuses:   opts("in_progress", "submitted", "Inviata", "in_progress", "In lavorazione", "completed", "Conclusa"),
		Units:      opts("controllo-abitanti", "controllo-abitanti", "Controllo abitanti", "ufficio-tecnico", "Ufficio tecnico"),
		Operators:  opts("2", "2", "Marco Rezzonico", "3", "Giulia Neri"),
		Priorities: opts("high", "low", "Bassa", "normal", "Normale", "high", "Alta", "urgent", "Urgente"),
		Actions: []ServiceAction{{ID: "stamp", Label: "Timbra", Title: "Timbro", URL: "/t/lugano/backoffice/requests/42/actions/stamp",
			Fields: []Field{{Name: "remark", ID: "field-remark", Label: "Osservazione", Widget: "textarea"}}}},
		Form:   DossierForm{Reply: "Gentile signora, la sua pratica è in corso."},
		Errors: FieldErrors{"note": "Nota: campo obbligatorio."},
		Stale:  "Nel frattempo Giulia Neri ha modificato questa pratica (2 marzo 2026, 11:30)."})
	draftView := view
	draftView.Draft, draftView.StatusID, draftView.Status = true, "draft", "Bozza"
	pages["backoffice_dossier-draft"] = tp("backoffice_dossier", "2026-000043", staff, &DossierPageData{
		Dossier: draftView, Version: 1, URL: "/t/lugano/backoffice/requests/43", BackURL: "/t/lugano/backoffice",
		Draft: &IntakeData{PostURL: "/t/lugano/backoffice/requests/43", Channels: opts("counter", "phone", "Telefono", "counter", "Sportello"),
			Intake: IntakeForm{Channel: "counter", Name: "Luca Bianchi"}, Title: "Richiesta di copia", Version: 1}})
	pages["backoffice_new"] = tp("backoffice_new", "Nuova richiesta", staff, intake)
	pages["backoffice_new-generic"] = tp("backoffice_new", "Nuova richiesta", staff, &IntakeData{PostURL: "/t/lugano/backoffice/new",
		ChooseURL: "/t/lugano/backoffice/new", Channels: opts("phone", "phone", "Telefono", "counter", "Sportello"),
		Services: opts("", "", "Richiesta generica"), Errors: FieldErrors{"_title": "Oggetto: campo obbligatorio."}})
	item := QueueItem{ID: 42, Ref: "2026-000042", Title: "Cambio di indirizzo", Service: "Segnalazioni", StatusID: "completed",
		Status: "Conclusa", Final: true, Received: at, URL: "/t/lugano/requests/42"}
	pages["my_requests"] = tp("my_requests", "Le mie richieste", citizen, &MyRequestsData{Requests: []QueueItem{item},
		NextURL: "/t/lugano/requests?cursor=abc"})
	pages["my_requests-empty"] = tp("my_requests", "Le mie richieste", citizen, &MyRequestsData{})
	mine := view
	mine.Priority, mine.Office, mine.Assignee, mine.Applicant = "", "", "", ApplicantView{}
	file.URL = "/t/lugano/requests/42/attachments/7"
	pages["my_requests_detail"] = tp("my_requests_detail", "2026-000042", citizen, &MyRequestData{Request: mine,
		Payments: []PaymentRow{{URL: "/t/lugano/payments/7", Reason: "Diritti di segreteria", Amount: "16,00 €", Status: "payment_pending", Date: "3 marzo 2025"}},
		Timeline: []TimelineEntry{timeline[0], timeline[2]}, Attachments: []AttachmentView{file}, BackURL: "/t/lugano/requests",
		Actions: []ServiceAction{{ID: "remind", Label: "Sollecita", Title: "Sollecita", URL: "/t/lugano/requests/42/actions/remind"}},
		Result:  &ServiceResult{Message: "Sollecito inviato."}})
}

// TestRenderBackofficeContent checks what the back office's and the
// citizen area's pages must show.
func TestRenderBackofficeContent(t *testing.T) {
	r := newTestRenderer(t)
	pages := samplePages()
	tests := []struct {
		page string
		want []string
		not  []string
	}{
		{"backoffice_dossier", []string{
			`id="dossier-stale"`, "Giulia Neri ha modificato", "Gentile signora, la sua pratica è in corso.</textarea>",
			`id="note-error"`, `aria-describedby="note-hint note-error"`, `action="/t/lugano/backoffice/requests/42/reply"`,
			`name="version" value="3"`, `<option value="in_progress" selected>In lavorazione</option>`, "Solo per gli uffici",
			`href="/t/lugano/backoffice/requests/42/attachments/7" download`, `action="/t/lugano/backoffice/requests/42/actions/stamp"`,
			`enctype="multipart/form-data"`, "RSSNNA80A41F205X", `href="tel:&#43;41791234567"`, "Le scriviamo entro venerdì.",
		}, []string{"Bozza da completare"}},
		{"backoffice_dossier-draft", []string{"Bozza da completare", `action="/t/lugano/backoffice/requests/43/submit"`,
			`formaction="/t/lugano/backoffice/requests/43/save"`, `action="/t/lugano/backoffice/requests/43/discard"`,
			`value="Richiesta di copia"`, `<option value="counter" selected>Sportello</option>`},
			[]string{"/take", "/reply", "/status"}},
		{"backoffice_new", []string{`enctype="multipart/form-data"`, `name="_service" value="helpdesk/submit"`,
			`id="intake-email-error"`, `value="non-valida"`, `name="_draft" value="1"`, `<input type="hidden" name="photo" value="12">`,
			"buca.jpg", `accept="image/jpeg,image/png"`, `<option value="helpdesk/submit" selected>Segnalazioni</option>`},
			[]string{`name="_title"`}},
		{"backoffice_new-generic", []string{`name="_title"`, `id="intake-title-error"`, `name="_description"`}, []string{"enctype"}},
		{"my_requests", []string{"Le mie richieste", "2026-000042", `href="/t/lugano/requests/42"`, "Conclusa",
			`href="/t/lugano/requests?cursor=abc"`, `href="/t/lugano/requests"`}, nil},
		{"my_requests-empty", []string{"Non hai ancora inviato richieste."}, []string{"<table"}},
		{"my_requests_detail", []string{"Sollecito inviato.", "Le scriviamo entro venerdì.", `href="/t/lugano/requests/42/attachments/7" download`,
			`action="/t/lugano/requests/42/actions/remind"`, `href="/t/lugano/payments/7"`, "Diritti di segreteria"}, []string{"Chiamare dopo le 14.", "Solo per gli uffici", "Marco Rezzonico</dd>"}},
		{"backoffice", []string{`href="/t/lugano/backoffice"`}, []string{`href="/t/lugano/requests"`}},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			p, ok := pages[tt.page]
			if !ok {
				t.Fatalf("no sample %q", tt.page)
			}
			out := render(t, r, p)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q", n)
				}
			}
		})
	}
}

// timelineSamples are the citizens' search and one citizen's timeline.
func timelineSamples(pages map[string]*Page, tp func(name, title string, u *User, data any) *Page, staff *User) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	pages["backoffice_citizens"] = tp("backoffice_citizens", "Cittadini", staff, &CitizensData{Query: "rossi", Searched: true,
		Matches: []CitizenMatch{{Name: "Anna Rossi", Email: "anna@example.org", FiscalCode: "RSSNNA80A41F205X", Requests: 2, URL: "/t/lugano/backoffice/citizens/7"}}})
	pages["backoffice_citizens-none"] = tp("backoffice_citizens", "Cittadini", staff, &CitizensData{Query: "zeta", Searched: true})
	pages["backoffice_citizen"] = tp("backoffice_citizen", "Anna Rossi", staff, &TimelineData{Name: "Anna Rossi", Email: "anna@example.org",
		FiscalCode: "RSSNNA80A41F205X", Registered: at.AddDate(0, -2, 0), LastLogin: at, Open: 1, MoreURL: "/t/lugano/backoffice/citizens/7?all=1",
		EmailConsent: "Dato il 1 febbraio 2026", SMSConsent: "Dato il 2 febbraio 2026", Phone: "+41791234567",
		Entries: []CitizenEvent{
			{At: at.Add(72 * time.Hour), Kind: "payment", Label: "Pagamento", Number: "2026-000001", URL: "/t/lugano/backoffice/requests/3", Title: "Diritti di segreteria", Status: "Da pagare", Amount: "16,50 €"},
			{At: at.Add(48 * time.Hour), Kind: "message", Label: "Risposta dell'ufficio", Number: "2026-000001", URL: "/t/lugano/backoffice/requests/3", Title: "Buca in via Roma", Text: "Squadra mandata", Internal: true},
			{At: at.Add(24 * time.Hour), Kind: "appointment", Label: "Appuntamento", Title: "Carta d'identità", Status: "Confermata", Text: "ABCD2345", Channel: "Telefono", Until: at.Add(24*time.Hour + 15*time.Minute)},
			{At: at, Kind: "filed", Label: "Richiesta presentata", Number: "2026-000001", URL: "/t/lugano/backoffice/requests/3", Service: "Segnalazioni", Title: "Buca in via Roma", Status: "Aperta", Channel: "Online"},
		}})
	pages["backoffice_citizen-empty"] = tp("backoffice_citizen", "Bruno Neri", staff, &TimelineData{Name: "Bruno Neri", Registered: at, LastLogin: at})
}
