package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sportello/sportello/plugins/sdk"
)

type service struct{}

var _ sdk.Service = (*service)(nil)

type request struct {
	Cemetery      string `json:"cemetery"`
	Place         string `json:"place"`
	Years         int    `json:"years"`
	Beneficiaries string `json:"beneficiaries"`
	Relationship  string `json:"relationship"`
}

type config struct {
	Cemeteries string            `json:"cemeteries"`
	Currency   string            `json:"currency"`
	Tariffs    map[string]string `json:"tariffs"` // place → "years=price; ..."
	TombPlaces int               `json:"tomb_places"`
}

var msg = sdk.Messages{
	"place.niche":   {"it": "loculo", "de": "Grabnische", "en": "niche"},
	"place.tomb":    {"it": "tomba di famiglia", "de": "Familiengrab", "en": "family tomb"},
	"place.ground":  {"it": "posto a terra", "de": "Erdgrab", "en": "ground plot"},
	"place.ossuary": {"it": "celletta ossario", "de": "Ossariumsnische", "en": "ossuary niche"},
	"not_configured": {
		"it": "Il Comune non ha ancora attivato le richieste online di concessione. Rivolgiti all'ufficio servizi cimiteriali.",
		"de": "Die Gemeinde nimmt Konzessionsanträge noch nicht online entgegen. Wenden Sie sich an das Friedhofsamt.",
		"en": "The town does not take concession requests online yet. Please contact the cemetery services office.",
	},
	"which_cemetery": {
		"it": "Scrivi il nome del cimitero: %s.",
		"de": "Geben Sie den Namen des Friedhofs an: %s.",
		"en": "Write the cemetery's name: %s.",
	},
	"not_offered": {
		"it": "In questo momento il Comune non concede il tipo di sepoltura «%s».",
		"de": "Die Gemeinde vergibt die Grabart «%s» zurzeit nicht.",
		"en": "The town does not grant the type of place “%s” at the moment.",
	},
	"years": {
		"it": "Per «%s» puoi scegliere una durata di %s anni.",
		"de": "Für «%s» sind Laufzeiten von %s Jahren möglich.",
		"en": "For “%s” you can choose %s years.",
	},
	"or":     {"it": "o", "de": "oder", "en": "or"},
	"nobody": {"it": "Indica almeno una persona.", "de": "Nennen Sie mindestens eine Person.", "en": "Name at least one person."},
	"only_one": {
		"it": "«%s» accoglie una sola persona: ne hai indicate %d.",
		"de": "«%s» nimmt nur eine Person auf; Sie haben %d genannt.",
		"en": "“%s” holds one person only; you named %d.",
	},
	"too_many": {
		"it": "«%s» accoglie al massimo %d persone: ne hai indicate %d.",
		"de": "«%s» nimmt höchstens %d Personen auf; Sie haben %d genannt.",
		"en": "“%s” holds at most %d people; you named %d.",
	},
	"title": {
		"it": "Concessione %s, %d anni – %s",
		"de": "Konzession %s, %d Jahre – %s",
		"en": "Concession: %s, %d years – %s",
	},
	"reason": {
		"it": "Concessione cimiteriale %s %d anni, pratica %s",
		"de": "Grabkonzession %s %d Jahre, Vorgang %s",
		"en": "Cemetery concession %s %d years, case %s",
	},
	"done": {
		"it": "Abbiamo ricevuto la tua richiesta, pratica n. %s. Importo da pagare: %s, con l'avviso pagoPA n. %s che trovi nella tua area personale. Dopo il pagamento l'ufficio prepara l'atto di concessione.",
		"de": "Wir haben Ihren Antrag erhalten, Vorgang Nr. %s. Zu bezahlen: %s, mit der pagoPA-Zahlungsaufforderung Nr. %s in Ihrem persönlichen Bereich. Nach der Zahlung stellt das Amt die Konzession aus.",
		"en": "We have received your request, case no. %s. Amount due: %s, with pagoPA payment notice no. %s in your personal area. Once you have paid, the office draws up the concession.",
	},
	"done_free": {
		"it": "Abbiamo ricevuto la tua richiesta, pratica n. %s. L'ufficio ti contatterà per l'atto di concessione.",
		"de": "Wir haben Ihren Antrag erhalten, Vorgang Nr. %s. Das Amt meldet sich wegen der Konzessionsurkunde bei Ihnen.",
		"en": "We have received your request, case no. %s. The office will contact you about the concession deed.",
	},
	"mail_subject": {
		"it": "Concessione cimiteriale, pratica n. %s",
		"de": "Grabkonzession, Vorgang Nr. %s",
		"en": "Cemetery concession, case no. %s",
	},
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	if req.Action != "request" {
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	var v request
	if err := req.Decode(&v); err != nil {
		return nil, err
	}
	cfg := config{Currency: "EUR", TombPlaces: 6}
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	lang := req.Lang
	place := msg.Get(lang, "place."+v.Place)

	// A town may enable the service before it has set it up: that is
	// for its office to fix, not for the citizen.
	cemeteries := lines(cfg.Cemeteries)
	if len(cemeteries) == 0 || len(cfg.Tariffs) == 0 {
		return sdk.Refused(msg.Get(lang, "not_configured")), nil
	}
	cemetery, ok := findCemetery(cemeteries, v.Cemetery)
	if !ok {
		return sdk.Invalid("/cemetery", msg.Get(lang, "which_cemetery", strings.Join(cemeteries, "; "))), nil
	}

	// The schema of the configuration has checked the tariffs' shape when
	// the town saved them; an error here is a bug, not the citizen's.
	prices, err := parseTariff(cfg.Tariffs[v.Place])
	if err != nil {
		return nil, fmt.Errorf("tariff of %s: %w", v.Place, err)
	}
	if len(prices) == 0 {
		return sdk.Invalid("/place", msg.Get(lang, "not_offered", place)), nil
	}
	cents, ok := prices[v.Years]
	if !ok {
		return sdk.Invalid("/years", msg.Get(lang, "years", place, durations(prices, msg.Get(lang, "or")))), nil
	}

	people := lines(v.Beneficiaries)
	capacity := 1
	if v.Place == "tomb" {
		capacity = cfg.TombPlaces
	}
	switch {
	case len(people) == 0:
		return sdk.Invalid("/beneficiaries", msg.Get(lang, "nobody")), nil
	case len(people) > 1 && capacity == 1:
		return sdk.Invalid("/beneficiaries", msg.Get(lang, "only_one", place, len(people))), nil
	case len(people) > capacity:
		return sdk.Invalid("/beneficiaries", msg.Get(lang, "too_many", place, capacity, len(people))), nil
	}

	status := "awaiting_payment"
	if cents == 0 {
		status = "submitted"
	}
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{
		Title:  msg.Get(lang, "title", place, v.Years, cemetery),
		Status: status,
		Data: map[string]any{"cemetery": cemetery, "place": v.Place, "years": v.Years, "beneficiaries": people,
			"relationship": strings.TrimSpace(v.Relationship), "fee_cents": cents, "currency": cfg.Currency},
	})
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	done := msg.Get(lang, "done_free", d.GetNumber())
	if cents > 0 {
		p, err := req.Host.CreatePayment(ctx, sdk.NewPayment{AmountCents: cents, Currency: cfg.Currency, DossierID: d.GetId(),
			Reason: msg.Get(lang, "reason", place, v.Years, d.GetNumber())})
		if err != nil {
			return nil, fmt.Errorf("create payment for %s: %w", d.GetNumber(), err)
		}
		done = msg.Get(lang, "done", d.GetNumber(), sdk.Money(lang, cents, cfg.Currency), p.GetNoticeCode())
	}
	if err := req.Host.Audit(ctx, "cemetery.request", "dossier:"+d.GetNumber(),
		map[string]any{"place": v.Place, "years": v.Years, "fee_cents": cents}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	// The page shows the same text: a lost e-mail is no reason to fail.
	if _, err := req.Host.Notify(ctx, sdk.Notification{Channel: "email",
		Subject: msg.Get(lang, "mail_subject", d.GetNumber()), Body: done}); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: d.GetNumber(),
		Data: map[string]any{"fee_cents": cents, "currency": cfg.Currency}}, nil
}

// lines are the non-blank lines of s, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// findCemetery matches what the citizen typed against the town's list,
// ignoring case and a leading "Cimitero (di)" that one may write and the
// other not. A town with one cemetery needs no answer.
func findCemetery(list []string, typed string) (string, bool) {
	typed = strings.TrimSpace(typed)
	if typed == "" {
		if len(list) == 1 {
			return list[0], true
		}
		return "", false
	}
	key := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, prefix := range []string{"cimitero ", "friedhof ", "cemetery "} {
			s = strings.TrimSpace(strings.TrimPrefix(s, prefix))
		}
		for _, prefix := range []string{"di ", "del ", "della ", "dei ", "von ", "of "} {
			s = strings.TrimSpace(strings.TrimPrefix(s, prefix))
		}
		return s
	}
	for _, c := range list {
		if key(c) == key(typed) {
			return c, true
		}
	}
	return "", false
}

// parseTariff reads "30=1500; 99=4200,50" into years → cents.
func parseTariff(s string) (map[int]int64, error) {
	out := map[int]int64{}
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		y, p, ok := strings.Cut(item, "=")
		years, err := strconv.Atoi(strings.TrimSpace(y))
		if !ok || err != nil || years <= 0 {
			return nil, fmt.Errorf("%q: want years=price", item)
		}
		price, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(p), ",", "."), 64)
		if err != nil || price < 0 {
			return nil, fmt.Errorf("%q: want years=price", item)
		}
		out[years] = int64(math.Round(price * 100))
	}
	return out, nil
}

// durations lists the years on offer: "30 o 99".
func durations(prices map[int]int64, or string) string {
	var years []int
	for y := range prices {
		years = append(years, y)
	}
	slices.Sort(years)
	var parts []string
	for _, y := range years {
		parts = append(parts, strconv.Itoa(y))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + or + " " + parts[len(parts)-1]
}
