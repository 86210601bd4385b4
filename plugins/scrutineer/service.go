package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// service takes one availability per citizen and election round.
type service struct {
	now func() time.Time // nil: the real clock; tests set it
}

var _ sdk.Service = (*service)(nil)

// answers is either form: the president's asks for more.
type answers struct {
	VoterHere         bool   `json:"voter_here"`
	InRegister        bool   `json:"in_register"`
	Schooling         bool   `json:"schooling"`
	Diploma           bool   `json:"diploma"`
	Under70           bool   `json:"under_70"`
	NoIncompatibility bool   `json:"no_incompatibility"`
	Experience        string `json:"experience,omitempty"`
	Phone             string `json:"phone"`
}

type round struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Deadline string `json:"deadline"` // YYYY-MM-DD, the last day included
}

type config struct {
	Round       *round `json:"round"`
	OfficeEmail string `json:"office_email"`
}

// offer is what the plugin remembers of a citizen's availability in a
// round, under offerKey: enough to refuse a second one and say which.
type offer struct {
	Role   string `json:"role"`
	Number string `json:"number"`
}

func offerKey(roundID string, citizen int64) string {
	return fmt.Sprintf("offer.%s.%d", roundID, citizen)
}

var msg = sdk.Messages{
	"role.scrutineer": {"it": "scrutatore", "de": "Stimmenzähler/in", "en": "scrutineer"},
	"role.president":  {"it": "presidente di seggio", "de": "Vorsitzende/r des Wahllokals", "en": "polling-station president"},
	"citizens_only": {
		"it": "Solo la persona interessata può dare la propria disponibilità, dopo l'accesso con SPID o CIE.",
		"de": "Nur die betroffene Person kann sich melden, nach der Anmeldung mit SPID oder CIE.",
		"en": "Only the person concerned can offer their availability, after logging in with SPID or CIE.",
	},
	"no_round": {
		"it": "In questo momento il Comune non raccoglie disponibilità: nessuna tornata elettorale è aperta.",
		"de": "Die Gemeinde sammelt zurzeit keine Meldungen: Es ist kein Wahlgang offen.",
		"en": "The town is not collecting availability at the moment: no election round is open.",
	},
	"closed": {
		"it": "Il termine per dare la disponibilità per «%s» è scaduto il %s.",
		"de": "Die Frist für Meldungen zu «%s» ist am %s abgelaufen.",
		"en": "The deadline to offer availability for “%s” passed on %s.",
	},
	"already": {
		"it": "Hai già dato la tua disponibilità come %s per «%s» (pratica n. %s). Per cambiarla, contatta l'Ufficio elettorale.",
		"de": "Sie haben sich für «%[2]s» bereits gemeldet, als %[1]s (Vorgang Nr. %[3]s). Für eine Änderung wenden Sie sich an das Wahlamt.",
		"en": "You have already offered to be a %s for “%s” (case no. %s). To change it, contact the electoral office.",
	},
	"need.voter_here": {
		"it": "Per lavorare al seggio devi essere iscritto nelle liste elettorali del Comune.",
		"de": "Für die Mitarbeit im Wahllokal müssen Sie im Wählerverzeichnis der Gemeinde stehen.",
		"en": "To work at a polling station you must be on the town's electoral roll.",
	},
	"need.in_register.scrutineer": {
		"it": "Possono fare lo scrutatore solo gli iscritti all'albo degli scrutatori. Chiedi l'iscrizione all'Ufficio elettorale.",
		"de": "Stimmen zählen kann nur, wer im Verzeichnis der Stimmenzähler steht. Beantragen Sie die Eintragung beim Wahlamt.",
		"en": "Only people on the register of scrutineers can be scrutineers. Ask the electoral office to add you.",
	},
	"need.in_register.president": {
		"it": "Possono fare il presidente solo gli iscritti all'albo dei presidenti di seggio. Chiedi l'iscrizione all'Ufficio elettorale.",
		"de": "Den Vorsitz kann nur übernehmen, wer im Verzeichnis der Wahllokalvorsitzenden steht. Beantragen Sie die Eintragung beim Wahlamt.",
		"en": "Only people on the register of presidents can be presidents. Ask the electoral office to add you.",
	},
	"need.schooling": {
		"it": "Per fare lo scrutatore devi aver assolto l'obbligo scolastico.",
		"de": "Stimmenzähler müssen die Schulpflicht erfüllt haben.",
		"en": "Scrutineers must have completed compulsory schooling.",
	},
	"need.diploma": {
		"it": "Per fare il presidente serve un diploma di scuola secondaria di secondo grado.",
		"de": "Für den Vorsitz ist ein Abschluss der Oberschule (Matura) nötig.",
		"en": "A president needs an upper secondary school diploma.",
	},
	"need.under_70": {
		"it": "Il presidente di seggio non deve aver compiuto 70 anni.",
		"de": "Wer den Vorsitz übernimmt, muss jünger als 70 Jahre sein.",
		"en": "A polling-station president must be under 70.",
	},
	"need.no_incompatibility": {
		"it": "Chi si trova in una delle condizioni elencate non può lavorare al seggio.",
		"de": "Wer unter einen der genannten Gründe fällt, kann nicht im Wahllokal arbeiten.",
		"en": "People to whom one of the listed conditions applies cannot work at a polling station.",
	},
	"title": {
		"it": "Disponibilità come %s – %s",
		"de": "Meldung als %s – %s",
		"en": "Availability as %s – %s",
	},
	"done": {
		"it": "Grazie: abbiamo registrato la tua disponibilità come %s per «%s», pratica n. %s. Se vieni nominato, ti avvisiamo.",
		"de": "Danke: Wir haben Ihre Meldung als %s für «%s» erfasst, Vorgang Nr. %s. Wenn Sie ernannt werden, benachrichtigen wir Sie.",
		"en": "Thank you: we have recorded your availability as %s for “%s”, case no. %s. If you are appointed, we will let you know.",
	},
	"mail_subject": {
		"it": "Disponibilità per il seggio, pratica n. %s",
		"de": "Meldung für das Wahllokal, Vorgang Nr. %s",
		"en": "Polling-station availability, case no. %s",
	},
	"office_body": {
		"it": "Nuova disponibilità come %s per «%s», pratica n. %s. Telefono: %s.",
		"de": "Neue Meldung als %s für «%s», Vorgang Nr. %s. Telefon: %s.",
		"en": "New availability as %s for “%s”, case no. %s. Phone: %s.",
	},
}

func (s *service) Handle(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	role := req.Action
	if role != "scrutineer" && role != "president" {
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	var a answers
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	var cfg config
	if err := req.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	lang := req.Lang
	if req.Actor.Kind != "citizen" {
		return sdk.Refused(msg.Get(lang, "citizens_only")), nil
	}
	r := cfg.Round
	if r == nil || r.ID == "" {
		return sdk.Refused(msg.Get(lang, "no_round")), nil
	}
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	deadline, err := time.ParseInLocation(time.DateOnly, r.Deadline, sdk.Zone)
	if err != nil {
		return nil, fmt.Errorf("round %s: deadline: %w", r.ID, err)
	}
	// The deadline day is included, until midnight in the town.
	if !now().Before(deadline.AddDate(0, 0, 1)) {
		return sdk.Refused(msg.Get(lang, "closed", r.Name, sdk.Date(lang, deadline))), nil
	}

	// The form lets people say "no" on purpose: each missing requirement
	// is shown beside its answer, with what it takes.
	if errs := missing(role, a, lang); len(errs) > 0 {
		return &sdk.Response{Outcome: sdk.OutcomeInvalid, Errors: errs}, nil
	}

	// The host offers no compare-and-set: two submissions in the same
	// instant could both pass this check, and the office would see two
	// dossiers of one person for one round. Rare enough, and visible.
	key := offerKey(r.ID, req.Actor.ID)
	var prev offer
	found, err := req.Host.GetSetting(ctx, key, &prev)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if found {
		return sdk.Refused(msg.Get(lang, "already", msg.Get(lang, "role."+prev.Role), r.Name, prev.Number)), nil
	}

	roleName := msg.Get(lang, "role."+role)
	d, err := req.Host.CreateDossier(ctx, sdk.NewDossier{
		Title: msg.Get(lang, "title", roleName, r.Name),
		Data: map[string]any{"role": role, "round_id": r.ID, "round": r.Name, "phone": a.Phone,
			"experience": a.Experience, "lang": lang},
	})
	if err != nil {
		return nil, fmt.Errorf("create dossier: %w", err)
	}
	if err := req.Host.PutSetting(ctx, key, offer{Role: role, Number: d.GetNumber()}); err != nil {
		return nil, fmt.Errorf("remember the offer: %w", err)
	}
	if err := req.Host.Audit(ctx, "scrutineer.offer", "dossier:"+d.GetNumber(),
		map[string]any{"role": role, "round_id": r.ID}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	done := msg.Get(lang, "done", roleName, r.Name, d.GetNumber())
	subject := msg.Get(lang, "mail_subject", d.GetNumber())
	notify(ctx, req, sdk.Notification{Channel: "email", Subject: subject, Body: done})
	if cfg.OfficeEmail != "" {
		notify(ctx, req, sdk.Notification{Channel: "email", To: cfg.OfficeEmail, Subject: subject,
			Body: msg.Get(lang, "office_body", roleName, r.Name, d.GetNumber(), a.Phone)})
	}
	return &sdk.Response{Outcome: sdk.OutcomeOK, Message: done, DossierID: d.GetId(), DossierNumber: d.GetNumber()}, nil
}

// missing lists the requirements of role that the answers do not meet,
// in the order of the form.
func missing(role string, a answers, lang string) []sdk.FieldError {
	type requirement struct {
		met   bool
		field string
		key   string
	}
	reqs := []requirement{
		{a.VoterHere, "/voter_here", "need.voter_here"},
		{a.InRegister, "/in_register", "need.in_register." + role},
	}
	if role == "scrutineer" {
		reqs = append(reqs, requirement{a.Schooling, "/schooling", "need.schooling"})
	} else {
		reqs = append(reqs, requirement{a.Diploma, "/diploma", "need.diploma"},
			requirement{a.Under70, "/under_70", "need.under_70"})
	}
	reqs = append(reqs, requirement{a.NoIncompatibility, "/no_incompatibility", "need.no_incompatibility"})
	var errs []sdk.FieldError
	for _, r := range reqs {
		if !r.met {
			errs = append(errs, sdk.FieldError{Field: r.field, Message: msg.Get(lang, r.key)})
		}
	}
	return errs
}

// notify queues a message; the offer is recorded whatever happens to it,
// and the page already shows the confirmation.
func notify(ctx context.Context, req *sdk.Request, n sdk.Notification) {
	if _, err := req.Host.Notify(ctx, n); err != nil {
		slog.Warn("notification not queued", "request_id", req.RequestID, "err", err)
	}
}
