package server_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// End to end, against the real roombooking plugin process and
// PostgreSQL: a paid room held, paid with the local provider and
// confirmed; the same slot refused to somebody else; a room the office
// approves; a wedding room paid, then approved.

const roomTown = "trezzo-sull-adda"

// roomTownConfig is the town's configuration of the service: a paid
// room, a free one the office approves, a wedding room.
const roomTownConfig = `{
	"room_1": {"slug": "sala-consiliare", "name": "Sala consiliare", "capacity": 80, "equipment": "Proiettore, impianto audio",
		"hours": "lun-dom 08:00-23:00", "slot_minutes": 60, "price": 25},
	"room_2": {"slug": "sala-civica", "name": "Sala civica", "capacity": 30, "hours": "lun-dom 08:00-22:00",
		"slot_minutes": 60, "approval": true, "manager_email": "anagrafe@trezzo.example"},
	"room_3": {"slug": "sala-sposi", "name": "Sala degli sposi", "capacity": 50, "hours": "lun-dom 09:00-18:00",
		"slot_minutes": 60, "price": 150, "approval": true, "wedding": true},
	"currency": "EUR", "payment": "at_booking", "hold_minutes": 30, "cancel_hours": 48, "notice_hours": 24, "horizon_days": 180
}`

var roomCode = regexp.MustCompile(`Codice di prenotazione ([2-9A-HJ-NP-Z]{8})`)

// roomBooking is a booking's state in the database, with its dossier and
// the payment asked for it (0 when none).
func roomBooking(t *testing.T, s *site, code string) (status string, dossierID int64, dossierStatus string, paymentID int64) {
	t.Helper()
	err := s.db.Owner.NewRaw(`SELECT b.status, d.id, d.status, coalesce((SELECT p.id FROM payments p
			WHERE p.tenant_id = b.tenant_id AND p.hold_kind = 'booking' AND p.hold_id = b.id), 0)
		FROM bookings b JOIN dossiers d ON d.tenant_id = b.tenant_id AND d.service_id = 'roombooking' AND d.data->>'booking_code' = b.code
		WHERE b.code = ? AND b.service_id = 'roombooking'`, code).Scan(context.Background(), &status, &dossierID, &dossierStatus, &paymentID)
	if err != nil {
		t.Fatalf("booking %s: %v", code, err)
	}
	return status, dossierID, dossierStatus, paymentID
}

// payLocally pays a payment as the citizen, through the local provider.
func payLocally(t *testing.T, s *site, b *browser, paymentID int64) {
	t.Helper()
	page := fmt.Sprintf("%s/t/%s/payments/%d", s.url, roomTown, paymentID)
	r := b.form(page, page+"/checkout", url.Values{})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), fmt.Sprintf("/payments/%d/local", paymentID)) {
		t.Fatalf("checkout: %d %s %.500s", r.status, r.header.Get("Location"), r.body)
	}
	r = b.form(page+"/local", page+"/local", url.Values{"outcome": {"pay"}})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), "?done=paid") {
		t.Fatalf("pay: %d %s", r.status, r.header.Get("Location"))
	}
}

func TestRoomBookingEndToEnd(t *testing.T) {
	s := newSite(t)
	withPlugins(t, s, testPlugin{ID: "roombooking", Pkg: "../../plugins/roombooking", Publish: map[string]string{roomTown: roomTownConfig}})
	svc := s.url + "/t/" + roomTown + "/services/roombooking"
	day := time.Now().In(sdk.Zone).AddDate(0, 0, 7)
	date := day.Format(time.DateOnly)
	when := sdk.Date("it", day)

	// Anybody sees the rooms and a room's free times.
	expect(t, s.browser().form(svc, svc+"/rooms", url.Values{}), 200, "Sala consiliare (codice sala-consiliare): fino a 80 persone",
		"€ 25,00 l&#39;una")

	mario := s.citizen(roomTown, "mario.rossi")
	booking := url.Values{"room": {"Sala consiliare"}, "date": {date}, "start": {"18:00"}, "slots": {"2"}, "attendees": {"40"},
		"purpose": {"Assemblea dei soci dell'associazione genitori"}, "consent": {"on"}}
	r := mario.form(svc, svc+"/book", booking)
	expect(t, r, 200, `id="service-result"`, "dalle 18:00 alle 20:00", "paga € 50,00")
	m := roomCode.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no booking code: %.3000s", r.body)
	}
	code := m[1]
	status, dossierID, dossierStatus, paymentID := roomBooking(t, s, code)
	if status != "held" || dossierStatus != "awaiting_payment" || paymentID == 0 {
		t.Fatalf("booking %s, dossier %s, payment %d", status, dossierStatus, paymentID)
	}

	t.Run("anybody sees the free times around it", func(t *testing.T) {
		expect(t, s.browser().form(svc, svc+"/rooms", url.Values{"room": {"sala-consiliare"}, "date": {date}}), 200,
			"Orari liberi della sala «Sala consiliare» il giorno "+when+": 08:00–18:00, 20:00–23:00")
	})

	giulia := s.citizen(roomTown, "giulia.bianchi")
	taken := url.Values{"room": {"sala-consiliare"}, "date": {date}, "start": {"19:00"}, "slots": {"1"}, "attendees": {"10"},
		"purpose": {"Prove del coro parrocchiale"}, "consent": {"on"}}
	t.Run("the held slot is refused to somebody else", func(t *testing.T) {
		expect(t, giulia.form(svc, svc+"/book", taken), 409, "In questo orario la sala «Sala consiliare» è già occupata")
	})
	t.Run("the engine's refusals beside the field", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range taken {
			bad[k] = v
		}
		bad.Set("start", "18:30")
		expect(t, giulia.form(svc, svc+"/book", bad), 422, "durano 60 minuti a partire dall&#39;apertura", `aria-invalid="true"`)
		bad.Set("start", "19:00")
		bad.Set("attendees", "81")
		expect(t, giulia.form(svc, svc+"/book", bad), 422, "accoglie al massimo 80 persone")
	})

	payLocally(t, s, mario, paymentID)
	if status, _, _, _ = roomBooking(t, s, code); status != "confirmed" {
		t.Fatalf("the paid booking is %s, want confirmed", status)
	}
	t.Run("the paid slot stays refused", func(t *testing.T) {
		expect(t, giulia.form(svc, svc+"/book", taken), 409, "già occupata")
	})

	// The dossier followed the payment by itself, and the booker was
	// told: nobody in the office acted.
	if _, _, dossierStatus, _ = roomBooking(t, s, code); dossierStatus != "confirmed" {
		t.Fatalf("dossier %s after payment, want confirmed", dossierStatus)
	}
	expect(t, mario.get(fmt.Sprintf("%s/t/%s/requests/%d", s.url, roomTown, dossierID)), 200, "Confermata",
		"Abbiamo ricevuto il pagamento di € 50,00: la tua prenotazione "+code)
	op := s.staff(roomTown, "anagrafe@trezzo.example", "demo-trezzo")
	page := dossierURL(s, roomTown, dossierID)
	expect(t, op.get(page), 200, code, "Confermata")

	t.Run("a room the office approves", func(t *testing.T) {
		r := giulia.form(svc, svc+"/book", url.Values{"room": {"Sala civica"}, "date": {date}, "start": {"10:00"}, "slots": {"1"},
			"attendees": {"20"}, "purpose": {"Incontro del comitato di quartiere"}, "consent": {"on"}})
		expect(t, r, 200, "attende l&#39;approvazione")
		code := roomCode.FindStringSubmatch(r.body)[1]
		status, dossierID, dossierStatus, paymentID := roomBooking(t, s, code)
		if status != "pending" || dossierStatus != "pending_approval" || paymentID != 0 {
			t.Fatalf("booking %s, dossier %s, payment %d", status, dossierStatus, paymentID)
		}
		page := dossierURL(s, roomTown, dossierID)
		expect(t, op.step(page, "actions/approve", url.Values{"note": {"Ritirate le chiavi in portineria."}}), 200, "approvata")
		status, _, dossierStatus, _ = roomBooking(t, s, code)
		if status != "confirmed" || dossierStatus != "confirmed" {
			t.Fatalf("approved: booking %s, dossier %s", status, dossierStatus)
		}
		var reply string
		if err := s.db.Owner.NewRaw(`SELECT body FROM dossier_messages WHERE dossier_id = ? ORDER BY id DESC LIMIT 1`, dossierID).
			Scan(context.Background(), &reply); err != nil || !strings.Contains(reply, "è approvata. Ritirate le chiavi in portineria.") {
			t.Fatalf("reply %q (%v)", reply, err)
		}
		// The citizen cancels it by its code, well before the deadline.
		expect(t, giulia.form(svc, svc+"/cancel", url.Values{"code": {strings.ToLower(code)}}), 200, "è annullata")
		if status, _, _, _ = roomBooking(t, s, code); status != "cancelled" {
			t.Fatalf("cancelled booking is %s", status)
		}
		expect(t, mario.form(svc, svc+"/cancel", url.Values{"code": {code}}), 422, "Non troviamo una tua prenotazione")
	})

	t.Run("a wedding room paid, then approved", func(t *testing.T) {
		r := mario.form(svc, svc+"/wedding", url.Values{"room": {"Sala degli sposi"}, "date": {date}, "time": {"11:00"},
			"ceremony": {"civil_union"}, "partner_1": {"Mario Rossi"}, "partner_2": {"Luca Verdi"}, "guests": {"30"},
			"phone": {"+39 333 1234567"}, "consent": {"on"}})
		expect(t, r, 200, "Unione civile nella sala «Sala degli sposi» il giorno "+when+" alle 11:00", "paga € 150,00")
		code := roomCode.FindStringSubmatch(r.body)[1]
		_, dossierID, _, paymentID := roomBooking(t, s, code)
		expect(t, giulia.form(svc, svc+"/book", url.Values{"room": {"Sala degli sposi"}, "date": {date}, "start": {"11:00"},
			"slots": {"1"}, "attendees": {"10"}, "purpose": {"Riunione del comitato"}, "consent": {"on"}}), 422, "modulo per le cerimonie")
		payLocally(t, s, mario, paymentID)
		if status, _, dossierStatus, _ := roomBooking(t, s, code); status != "pending" || dossierStatus != "pending_approval" {
			t.Fatalf("the paid wedding booking is %s, its dossier %s; want both waiting for the office", status, dossierStatus)
		}
		expect(t, op.step(dossierURL(s, roomTown, dossierID), "actions/approve", url.Values{}), 200, "approvata")
		if status, _, dossierStatus, _ := roomBooking(t, s, code); status != "confirmed" || dossierStatus != "confirmed" {
			t.Fatalf("approved wedding: booking %s, dossier %s", status, dossierStatus)
		}
	})

	// The town's admin edits the rooms in the configuration form; the
	// next booking stands on the rooms as changed.
	t.Run("the admin form", func(t *testing.T) {
		admin := s.staff(roomTown, "admin@trezzo.example", "demo-trezzo")
		page := s.url + "/t/" + roomTown + "/admin/services/roombooking"
		expect(t, admin.get(page), 200, "Sala 1", "Orari di apertura", `value="sala-consiliare"`, "lun-dom 08:00-23:00")
		cfg := url.Values{
			"room_1.slug": {"sala-consiliare"}, "room_1.name": {"Sala consiliare"}, "room_1.capacity": {"80"}, "room_1.price": {"30,50"},
			"room_1.equipment": {"Proiettore, impianto audio"}, "room_1.hours": {"lun-dom 08:00-23:00"}, "room_1.slot_minutes": {"60"},
			"room_2.slug": {"sala-civica"}, "room_2.name": {"Sala civica"}, "room_2.capacity": {"30"}, "room_2.hours": {"lun-dom 08:00-22:00"},
			"room_2.slot_minutes": {"60"}, "room_2.approval": {"on"}, "room_2.manager_email": {"anagrafe@trezzo.example"},
			"room_3.slug": {"sala-sposi"}, "room_3.name": {"Sala degli sposi"}, "room_3.capacity": {"50"}, "room_3.hours": {"lun-dom 09:00-18:00"},
			"room_3.slot_minutes": {"60"}, "room_3.price": {"150"}, "room_3.approval": {"on"}, "room_3.wedding": {"on"},
			"currency": {"EUR"}, "payment": {"at_booking"}, "hold_minutes": {"30"}, "cancel_hours": {"48"}, "notice_hours": {"24"},
			"horizon_days": {"180"}, "ceremonies": {"civil_wedding", "civil_union", "vow_renewal"},
		}
		bad := url.Values{}
		for k, v := range cfg {
			bad[k] = v
		}
		bad.Set("room_1.hours", "tutti i giorni dalle 8")
		expect(t, admin.form(page, page+"/config", bad), 422, `aria-invalid="true"`)
		expect(t, admin.form(page, page+"/config", cfg), 303)
		r := giulia.form(svc, svc+"/book", url.Values{"room": {"Sala consiliare"}, "date": {date}, "start": {"08:00"}, "slots": {"1"},
			"attendees": {"10"}, "purpose": {"Colazione di lavoro del comitato"}, "consent": {"on"}})
		expect(t, r, 200, "paga € 30,50")
	})
}
