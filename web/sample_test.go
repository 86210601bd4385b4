package web

import (
	"time"

	"github.com/sportello/sportello/core/opendata"
	"github.com/sportello/sportello/core/privacy"
)

// samplePages returns one filled Page per template (and a few variants),
// keyed by a label; the tests render them all.
func samplePages() map[string]*Page {
	langs := []LangLink{
		{Code: "it", Label: "Italiano", URL: "/t/lugano/?lang=it", Active: true},
		{Code: "de", Label: "Deutsch", URL: "/t/lugano/?lang=de"},
	}
	town := &Tenant{
		Slug:         "lugano",
		Name:         "Città di Lugano",
		Region:       Link{Label: "Repubblica e Cantone Ticino", URL: "https://www.ti.ch"},
		LogoURL:      "logo?v=3",
		PrimaryColor: "#a3151b",
		Contacts: Contacts{
			Address: "Piazza della Riforma 1, 6900 Lugano",
			Phone:   "+41 58 866 11 11",
			Email:   "info@lugano.example",
			PEC:     "protocollo@pec.lugano.example",
		},
		Social: []Link{
			{Label: "Facebook", URL: "https://www.facebook.com/cittadilugano"},
			{Label: "Instagram", URL: "https://www.instagram.com/cittadilugano"},
		},
		FooterLinks: []Link{{Label: "Amministrazione trasparente", URL: "https://www.lugano.ch"}},
		Services: []Service{
			{ID: "appointments", Name: "Prenota un appuntamento", Description: "Scegli ufficio, giorno e ora: ricevi la conferma via e-mail.", URL: "/t/lugano/servizi/appointments"},
			{ID: "helpdesk", Name: "Segnala un disservizio", Description: "Buche, illuminazione, rifiuti: segnala un problema e seguine la soluzione.", URL: "/t/lugano/servizi/helpdesk"},
			{ID: "roombooking", Name: "Prenota una sala", Description: "Sale civiche e palestre per associazioni e privati.", URL: "/t/lugano/servizi/roombooking"},
			{ID: "consultation", Name: "Parla con un operatore", Description: "Videochiamata, telefonata o chat con l'ufficio competente.", URL: "/t/lugano/servizi/consultation"},
		},
		Offices: []Office{
			{Name: "Controllo abitanti", Address: "Via della Posta 8, 6900 Lugano", Phone: "+41 58 866 60 00", Email: "abitanti@lugano.example",
				Hours: []string{"Lunedì–venerdì 08:30–12:00", "Lunedì, mercoledì 14:00–16:30"}},
			{Name: "Ufficio tecnico", Address: "Via Trevano 55, 6900 Lugano", Email: "tecnico@lugano.example",
				Hours: []string{"Martedì, giovedì 09:00–12:00"}},
		},
	}
	bare := &Tenant{Slug: "nuovo", Name: "Comune di Prova", PrimaryColor: "#ffd700"}
	staff := &User{Name: "Marco Rezzonico", Email: "sportello@lugano.example", Kind: "staff", Roles: []string{"operator", "office_manager"}}
	admin := &User{Name: "Chiara Bernasconi", Email: "admin@lugano.example", Kind: "staff", Roles: []string{"tenant_admin"}, Admin: true}
	citizen := &User{Name: "Anna Rossi", Email: "anna.rossi@example.org", Kind: "citizen", FiscalCode: "RSSNNA80A41F205X"}
	tp := func(name, title string, u *User, data any) *Page {
		return &Page{Name: name, Lang: "it", Languages: langs, Tenant: town, Base: "/t/lugano", CSRF: "csrf-token-123",
			User: u, Title: title, RequestID: "req-7f3a9c", Data: data}
	}
	received := time.Date(2025, time.March, 3, 9, 15, 0, 0, time.UTC)
	pages := map[string]*Page{
		"home":        tp("home", "", nil, nil),
		"home-titled": tp("home", "Città di Lugano", nil, nil),
		"home-empty":  {Name: "home", Lang: "it", Tenant: bare, Base: "/t/nuovo", Data: &HomeData{Intro: "Benvenuti nel nuovo portale."}},
		"home-de":     {Name: "home", Lang: "de", Languages: langs, Tenant: town, Base: "/t/lugano", User: staff},
		"home-personal": {Name: "home", Lang: "it", Languages: langs, Tenant: town, Base: "/t/lugano", User: citizen, Data: &HomeData{Personal: &PersonalHome{
			Open: []OpenItem{{Kind: "request", Label: "Richiesta", Title: "Buca in via Nassa", Detail: "2026-000042 · Aperta", URL: "/t/lugano/requests/42"},
				{Kind: "payment", Label: "Da pagare", Title: "Diritti di segreteria", Detail: "16,50 CHF", URL: "/t/lugano/payments/7"}},
			Suggested: []Service{{ID: "helpdesk", Name: "Segnala un disservizio", URL: "/t/lugano/services/helpdesk"}}}}},
		"home-personal-empty": {Name: "home", Lang: "en", Languages: langs, Tenant: town, Base: "/t/lugano", User: citizen, Data: &HomeData{Personal: &PersonalHome{}}},
		"error":               tp("error", "", nil, ErrorData{Status: 404}),
		"error-msg":           tp("error", "", nil, &ErrorData{Status: 503, Message: "Il servizio Prenotazioni si sta riavviando."}),
		"login": tp("login", "Accedi", nil, &LoginData{Email: "sportello@lugano.example", Error: "E-mail o password non corretti.",
			CitizenLoginURL: "/t/lugano/auth/citizen", Next: "/t/lugano/backoffice"}),
		"login-staff":      tp("login", "Accedi", nil, &LoginData{}),
		"profile":          tp("profile", "Profilo", citizen, nil),
		"profile-staff":    tp("profile", "Profilo", staff, &ProfileData{Offices: []string{"Controllo abitanti"}}),
		"backoffice":       tp("backoffice", "Back office", staff, &BackofficeData{Offices: []string{"Controllo abitanti"}, Queue: []QueueItem{{Ref: "PR-2025-00042", Title: "Cambio di indirizzo", Service: "Controllo abitanti", Status: "Nuova", Received: received, URL: "/t/lugano/backoffice/requests/42"}, {Ref: "PR-2025-00043", Title: "Lampione spento in via Nassa", Service: "Segnalazioni", Status: "In lavorazione", Received: received.Add(26 * time.Hour)}}}),
		"backoffice-empty": tp("backoffice", "Back office", staff, &BackofficeData{}),
		"admin_policies": tp("admin_policies", "Regole", admin, PoliciesData{
			Rules:   []PolicyRule{{ID: 7, Role: "operator", Object: "admin/offices", Action: "read"}, {ID: 9, Role: "office_manager", Object: "admin/services", Action: "read"}},
			Roles:   []string{"operator", "office_manager"},
			Objects: []string{"admin/offices", "admin/services"},
			Actions: []string{"read", "write"},
			Form:    PolicyForm{Role: "operator", Action: "write"},
			Errors:  FieldErrors{"object": "Indica un oggetto valido.", "": "La regola non è stata aggiunta: correggi i campi segnalati."},
		}),
		"admin_policies-empty": tp("admin_policies", "Regole", admin, &PoliciesData{Actions: []string{"read", "write"}}),
		"admin_analytics": tp("admin_analytics", "Statistiche", admin, &AnalyticsData{From: "2026-01-01", To: "2026-01-14",
			Tables: []AnalyticsTable{
				{ID: "by-service", Title: "Richieste per servizio", CSV: "/t/lugano/admin/analytics/by-service.csv?from=2026-01-01&to=2026-01-14", Chart: true,
					Head: []string{"Periodo dal", "Segnalazioni", "Totale"}, Rows: [][]string{{"1 gen 2026", "4", "4"}, {"2 gen 2026", "0", "0"}}},
				{ID: "overdue", Title: "Richieste scadute", CSV: "/t/lugano/admin/analytics/overdue.csv"},
			},
			Heat: &AnalyticsHeat{Title: "Richieste per giorno e ora", CSV: "/t/lugano/admin/analytics/heat.csv", Days: []string{"Lunedì", "Martedì"},
				Hours: []string{"0", "1"}, Cells: [][]HeatCell{{{N: "0"}, {N: "3", Level: 4}}, {{N: "1", Level: 2}, {N: "0"}}}},
			ChartsJSON: `{"by-service":{"kind":"line","labels":["1 gen","2 gen"],"datasets":[{"label":"Segnalazioni","data":[4,0]}]}}`,
		}),
		"admin_analytics-error": tp("admin_analytics", "Statistiche", admin, &AnalyticsData{From: "2026-02-01", To: "2026-01-01",
			Error: "La fine del periodo precede l'inizio: scambia le due date.", ChartsJSON: "{}"}),
		"platform_login": {Name: "platform_login", Lang: "it", CSRF: "csrf-token-123", Title: "Console", Data: &LoginData{}},
		"platform_home": {Name: "platform_home", Lang: "en", CSRF: "csrf-token-123", Title: "Console",
			User: &User{Name: "Platform Staff", Email: "ops@sportello.example", Kind: "platform", Roles: []string{"platform_admin"}},
			Data: &PlatformData{Tenants: []TenantSummary{
				{Slug: "lugano", Name: "Città di Lugano", Domains: []string{"lugano.sportello.example"}, Languages: []string{"it", "de"}, URL: "/t/lugano/"},
				{Slug: "trezzo-sull-adda", Name: "Comune di Trezzo sull'Adda", Languages: []string{"it"}, URL: "/t/trezzo-sull-adda/"},
				{Slug: "venezia", Name: "Comune di Venezia", Domains: []string{"venezia.sportello.example", "servizi.comune.venezia.example"}, Languages: []string{"it", "en", "de"}, URL: "/t/venezia/"},
			}}},
		"platform_home-empty": {Name: "platform_home", Lang: "de", Data: &PlatformData{}},
		"platform_home-console": {Name: "platform_home", Lang: "it", CSRF: "csrf-token-123", Title: "Console",
			User: &User{Name: "Platform Staff", Email: "ops@sportello.example", Kind: "platform"},
			Data: &PlatformData{Console: true,
				Requests: []ServiceRequestRow{{TenantID: 2, TenantName: "Comune di Trezzo sull'Adda", RequestID: 5, ServiceID: "cemetery",
					Service: "Concessione cimiteriale", Message: "Vorremmo attivare il servizio da gennaio.", Created: received}},
				Plugins: []PluginRow{
					{ID: "cemetery", Version: "1.0.0", SHA256: "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf", Status: "running", PID: 4242},
					{ID: "helpdesk", Version: "1.0.0", SHA256: "b8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf", Status: "failed", Reason: "exited 3 times in 10 minutes"},
				}}},
		"admin_services": tp("admin_services", "Catalogo", admin, &ServicesData{Services: []CatalogService{
			{ID: "cemetery", Name: "Concessione cimiteriale", Summary: "Chiedi una concessione.", Category: "anagrafe-e-stato-civile", State: "published", URL: "/t/lugano/admin/services/cemetery"},
			{ID: "helpdesk", Name: "Segnalazioni", Category: "ambiente", URL: "/t/lugano/admin/services/helpdesk"},
		}}),
		"admin_services-empty": tp("admin_services", "Catalogo", admin, &ServicesData{}),
		"admin_service-request": tp("admin_service", "Segnalazioni", admin, &ServiceAdminData{
			Service: CatalogService{ID: "helpdesk", Name: "Segnalazioni", State: "rejected"}, Reason: "Contratto scaduto.",
			CanRequest: true, Message: "", Errors: FieldErrors{"message": "Scrivete un messaggio."}}),
		"admin_service-pending": tp("admin_service", "Segnalazioni", admin, &ServiceAdminData{
			Service: CatalogService{ID: "helpdesk", Name: "Segnalazioni", State: "requested"}, PendingMessage: "Per favore.", PendingSince: received}),
		"admin_service-config": tp("admin_service", "Segnalazioni", admin, &ServiceAdminData{
			Service:      CatalogService{ID: "helpdesk", Name: "Segnalazioni", State: "approved", Version: "1.0.0"},
			Config:       []Field{{Name: "office_email", ID: "f-office_email", Label: "E-mail dell'ufficio", Widget: "input", InputType: "email", Required: true, Value: "urp@lugano.example"}},
			CanConfigure: true, CanPublish: true}),
		"service": tp("service", "Segnalazioni", citizen, &ServicePageData{
			Service:      CatalogService{ID: "helpdesk", Name: "Segnala un disservizio", Summary: "Segnala un problema."},
			CategoryName: "Ambiente", CategoryURL: "/t/lugano/servizi?categoria=ambiente", BookingURL: "/t/lugano/appointments",
			Office: &Office{Name: "Ufficio tecnico", Address: "Piazza della Riforma 1", Phone: "+41 58 866 00 00", Hours: []string{"Lunedì–Venerdì 08:30–12:00"}},
			Texts: ServiceTexts{Audience: "Chi abita nel Comune.", HowTo: "Compila il modulo.", WhatYouNeed: "SPID o CIE.", WhatYouGet: "Il numero della pratica.",
				TimesAndDeadlines: "Entro 30 giorni.", Costs: "Gratuito.", Conditions: "Scrivi il vero.", Contacts: "URP"},
			Actions: []ServiceAction{{ID: "submit", Label: "Invia", Title: "Segnalazione", URL: "/t/lugano/services/helpdesk/submit",
				Fields: []Field{{Name: "title", ID: "f-title", Label: "Titolo", Widget: "input", InputType: "text", Required: true, Error: "Campo obbligatorio", ErrorID: "f-title-error", DescribedBy: "f-title-error"}},
				Errors: FieldErrors{"title": "Campo obbligatorio"}}},
			Result: &ServiceResult{Message: "Segnalazione ricevuta.", DossierNumber: "2026-000042"}}),
		"services": tp("services", "Servizi", nil, &ServiceIndexData{Total: 3, BookingURL: "/t/lugano/appointments",
			Categories: []Option{{Value: "ambiente", Label: "Ambiente"}, {Value: "cultura-e-tempo-libero", Label: "Cultura e tempo libero"}},
			Groups: []ServiceGroup{{Slug: "ambiente", Name: "Ambiente", Services: []Service{{ID: "helpdesk", Name: "Segnala un disservizio", Description: "Segnala un problema.", URL: "/t/lugano/services/helpdesk"}}},
				{Slug: "cultura-e-tempo-libero", Name: "Cultura e tempo libero", Services: []Service{{ID: "roombooking", Name: "Prenota una sala", URL: "/t/lugano/services/roombooking"}}}}}),
		"services-category": tp("services", "Ambiente", nil, &ServiceIndexData{Total: 3, Selected: "ambiente", Query: "lampione",
			Categories: []Option{{Value: "ambiente", Label: "Ambiente", Selected: true}}}),
		"services-none": tp("services", "Servizi", nil, &ServiceIndexData{}),
		"service-login": tp("service", "Segnalazioni", nil, &ServicePageData{
			Service: CatalogService{ID: "helpdesk", Name: "Segnala un disservizio"},
			Actions: []ServiceAction{{ID: "submit", Label: "Invia", Title: "Segnalazione", LoginURL: "/t/lugano/login?next=x"}}}),
	}
	// The page rating: a refused rating sent without JavaScript, and a page
	// just rated.
	pages["rating"] = tp("rating", "Valuta la pagina", nil, nil)
	pages["rating"].Rating = Rating{Path: "/services/helpdesk", Stars: 2, Answer: "clear", Comment: "Troppi passaggi.",
		Error: "Scegli una risposta alla domanda che corrisponde alle stelle che hai dato."}
	pages["rating-thanks"] = &Page{Name: "home", Lang: "en", Tenant: town, Base: "/t/lugano", Flash: "Your rating has been sent.", Rating: Rating{Path: "/", Done: true}}
	// A footer page: the FAQ, and where to report a problem.
	pages["info"] = tp("info", "Domande frequenti", nil, &InfoPage{Paragraphs: []string{"Le risposte alle domande più frequenti."},
		Questions: []Question{{Q: "Come accedo ai servizi?", A: "Con SPID o CIE."}}})
	pages["info-report"] = tp("info", "Segnala un disservizio", nil, &InfoPage{Paragraphs: []string{"Usa i contatti qui sotto."}})
	backofficeSamples(pages, tp, staff, citizen)
	timelineSamples(pages, tp, staff)
	pages["admin_home"] = tp("admin_home", "Amministrazione", admin, &AdminHomeData{Links: []AdminLink{
		{Title: "Servizi", Text: "Chiedi e pubblica i servizi.", URL: "/t/lugano/admin/services", Icon: "it-settings"},
		{Title: "Impostazioni del portale", Text: "Le lingue.", URL: "/t/lugano/admin/settings", Icon: "it-pa"}}})
	pages["admin_settings"] = tp("admin_settings", "Impostazioni del portale", admin, &SettingsData{Default: "it", Saved: true,
		Languages: []Option{{Value: "it", Label: "Italiano", Selected: true}, {Value: "de", Label: "Deutsch (tedesco)", Selected: true}, {Value: "en", Label: "English (inglese)"}}})
	pages["admin_settings-errors"] = tp("admin_settings", "Impostazioni del portale", admin, &SettingsData{Default: "en",
		Languages: []Option{{Value: "it", Label: "Italiano"}, {Value: "de", Label: "Deutsch (tedesco)"}, {Value: "en", Label: "English (inglese)"}},
		Errors:    FieldErrors{"default": "La lingua principale deve essere tra quelle spuntate.", "languages": "Spunta almeno una lingua."}})
	paymentSamples(pages, tp, staff, citizen)
	liveSamples(pages, tp, staff, citizen)
	for label, p := range appointmentSamples() {
		pages["appointments-"+label] = p
	}
	pages["opendata"] = tp("opendata", "Dati aperti", nil, []opendata.Entry{
		{ID: "requests", Title: "Richieste per servizio e mese", Description: "Quante richieste ogni mese."},
		{ID: "ratings", Title: "Valutazioni delle pagine", Description: "La valutazione media di ogni pagina."}})
	pages["admin_privacy"] = tp("admin_privacy", "Privacy dei cittadini", admin, privacy.AdminView{
		Pending: []privacy.Request{{ID: 4, Name: "Anna Rossi", Email: "anna.rossi@example.org", FiscalCode: "RSSNNA80A41F205X", CreatedAt: received}},
		Done: []privacy.Request{{ID: 2, CreatedAt: received, DoneAt: received.Add(48 * time.Hour),
			Outcome: privacy.Outcome{Deleted: 1, Drafts: 2, Kept: 3}}},
		Services: []privacy.ServiceRetention{{ID: "helpdesk", Name: "Segnala un disservizio", Days: 365}, {ID: "general", Name: "Richiesta generica"}},
		Error:    "Indica un numero intero di giorni.", ErrorService: "general", ErrorValue: "-5"})
	pages["admin_privacy-empty"] = tp("admin_privacy", "Privacy dei cittadini", admin, privacy.AdminView{})
	return pages
}

// paymentSamples adds the payment pages: a position to pay online, one
// paid, one at the counter seen by staff, the test provider's checkout
// and the citizen's list.
func paymentSamples(pages map[string]*Page, tp func(name, title string, u *User, data any) *Page, staff, citizen *User) {
	history := []PaymentEvent{
		{At: "3 marzo 2025, 09:15", Status: "payment_pending", Actor: "provider:local"},
		{At: "3 marzo 2025, 09:17", Status: "payment_started", Actor: "citizen:12"},
	}
	due := &PaymentData{ID: 7, Reason: "Sala civica, 14 marzo 2025 20:00–22:00", Amount: "120,50 €", Status: "payment_pending",
		IUV: "00000000000000007", NoticeCode: "300000000000000007", Due: "3 marzo 2025, 09:30", CanPay: true,
		CheckoutURL: "/t/lugano/payments/7/checkout", DossierURL: "/t/lugano/my-requests/2025-000042", History: history[:1]}
	pages["payment"] = tp("payment", "Pagamento", citizen, due)
	paid := *due
	paid.Status, paid.PaidAt, paid.CanPay, paid.History = "complete", "3 marzo 2025, 09:18", false,
		append(history, PaymentEvent{At: "3 marzo 2025, 09:18", Status: "complete", Actor: "provider:local"})
	pages["payment-paid"] = tp("payment", "Pagamento", citizen, &paid)
	failed := *due
	failed.Status, failed.Failure = "payment_failed", "Carta rifiutata dal circuito."
	pages["payment-failed"] = tp("payment", "Pagamento", citizen, &failed)
	counter := *due
	counter.CanPay, counter.AtCounter, counter.CanRecord, counter.CanCancel = false, true, true, true
	pages["payment-counter"] = tp("payment", "Pagamento", staff, &counter)
	pages["payment_local"] = tp("payment_local", "Ambiente di prova", citizen, due)
	pages["payments"] = tp("payments", "I miei pagamenti", citizen, &PaymentsData{Payments: []PaymentRow{
		{URL: "/t/lugano/payments/7", Reason: "Sala civica", Amount: "120,50 €", Status: "payment_pending", Date: "3 marzo 2025"},
		{URL: "/t/lugano/payments/5", Reason: "Concessione cimiteriale", Amount: "1.250,00 €", Status: "complete", Date: "1 febbraio 2025"},
	}})
	pages["payments-empty"] = tp("payments", "I miei pagamenti", citizen, &PaymentsData{})
}
