package server

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/core/i18n"
	"github.com/sportello/sportello/web"
)

// suggestions is how many services the personal home suggests.
const suggestions = 6

// personalHome is the signed-in citizen's part of the home page: what is
// open between them and the town — requests not concluded, appointments
// to come, payments due, a wait for an operator — then the services that
// fit their profile and history.
func (s *Server) personalHome(c *fiber.Ctx, services []categorised) (*web.PersonalHome, error) {
	rs := state(c)
	cid, err := citizenID(c)
	if err != nil {
		return nil, err
	}
	ph := &web.PersonalHome{}
	recs, err := s.catalogByID(c)
	if err != nil {
		return nil, err
	}
	used := map[string]int{}
	var fiscalCode string
	label := func(kind string) string { return s.i18n.T(rs.lang, "personal.kind."+kind, nil) }
	err = s.DB.InTenant(c.UserContext(), rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT fiscal_code FROM citizens WHERE tenant_id = ? AND id = ?", rs.tenant.ID, cid).Scan(&fiscalCode); err != nil {
			return err
		}
		// Which services they used, and how often: their history.
		rows, err := tx.QueryContext(ctx, `SELECT service_id, count(*) FROM dossiers WHERE tenant_id = ? AND citizen_id = ? GROUP BY service_id`, rs.tenant.ID, cid)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return err
			}
			used[id] = n
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// Open requests: the latest changed first; a final status closes one.
		rows, err = tx.QueryContext(ctx, `SELECT id, number, title, service_id, status FROM dossiers
			WHERE tenant_id = ? AND citizen_id = ? ORDER BY updated_at DESC, id DESC LIMIT 50`, rs.tenant.ID, cid)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var number, title, service, status string
			if err := rows.Scan(&id, &number, &title, &service, &status); err != nil {
				rows.Close()
				return err
			}
			st, final := s.statusLabel(recs[service], rs.lang, status)
			if final {
				continue
			}
			ph.Open = append(ph.Open, web.OpenItem{Kind: "request", Label: label("request"), Title: title,
				Detail: number + " · " + st, URL: rs.base + "/requests/" + strconv.FormatInt(id, 10)})
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// Waits for an operator, appointments and bookings to come,
		// payments due: few at a time, each its own short list.
		rows, err = tx.QueryContext(ctx, `SELECT 'wait', id::text, desk, '', joined_at, 0, '' FROM consultation_entries
				WHERE tenant_id = ? AND citizen_id = ? AND status IN ('waiting', 'in_call')
			UNION ALL
			SELECT CASE WHEN a.booking_id IS NULL THEN 'booking' ELSE 'appointment' END, b.code,
				coalesce(t.name, r.name)::text, coalesce(b.dossier_id::text, ''), lower(b.period), 0, ''
				FROM bookings b JOIN booking_resources r ON r.tenant_id = b.tenant_id AND r.id = b.resource_id
				LEFT JOIN appointments a ON a.tenant_id = b.tenant_id AND a.booking_id = b.id
				LEFT JOIN appointment_topics t ON t.tenant_id = a.tenant_id AND t.id = a.topic_id
				WHERE b.tenant_id = ? AND b.citizen_id = ? AND b.status IN ('held', 'pending', 'confirmed') AND upper(b.period) > now()
			UNION ALL
			SELECT 'payment', id::text, reason, '', created_at, amount_cents, currency FROM payments
				WHERE tenant_id = ? AND citizen_id = ? AND status IN ('payment_pending', 'payment_started')
			ORDER BY 5 LIMIT 30`, rs.tenant.ID, cid, rs.tenant.ID, cid, rs.tenant.ID, cid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind, ref, title, dossierID, currency string
			var at time.Time
			var cents int64
			if err := rows.Scan(&kind, &ref, &title, &dossierID, &at, &cents, &currency); err != nil {
				return err
			}
			it := web.OpenItem{Kind: kind, Label: label(kind), Title: title}
			switch kind {
			case "wait":
				it.URL = rs.base + "/live/" + ref
				it.Detail = s.i18n.T(rs.lang, "personal.wait", nil)
			case "appointment", "booking":
				var names map[string]string
				if json.Unmarshal([]byte(title), &names) == nil {
					it.Title = cmp.Or(names[rs.lang], names["it"])
				}
				it.Detail = i18n.FormatDateTime(rs.lang, local(at))
				if kind == "appointment" {
					it.URL = rs.base + "/appointments/" + ref
				} else if dossierID != "" {
					it.URL = rs.base + "/requests/" + dossierID
				}
			case "payment":
				it.Detail = i18n.FormatMoney(rs.lang, cents, currency)
				it.URL = rs.base + "/payments/" + ref
			}
			ph.Open = append(ph.Open, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	ph.Suggested = suggest(services, used, ageOf(fiscalCode, time.Now()))
	return ph, nil
}

// suggest orders the town's services for one citizen and keeps the
// first few. History counts most: a service of a category they used
// before, and then one they used themselves (a yearly fee, a renewal).
// Their age, read from the fiscal code, brings forward what people of
// that age most often need: schools and summer camps for the years of
// raising children, care and transport for the elderly. Ties keep the
// catalogue's order.
func suggest(services []categorised, used map[string]int, age int) []web.Service {
	byCategory := map[string]bool{}
	for _, sv := range services {
		if used[sv.ID] > 0 {
			byCategory[sv.category] = true
		}
	}
	score := func(sv categorised) int {
		n := 0
		if byCategory[sv.category] {
			n += 3
		}
		if used[sv.ID] > 0 {
			n++
		}
		switch {
		case age >= 65 && (sv.category == "salute-benessere-e-assistenza" || sv.category == "mobilita-e-trasporti"):
			n += 2
		case age >= 25 && age <= 55 && sv.category == "educazione-e-formazione":
			n += 2
		}
		return n
	}
	ordered := slices.Clone(services)
	slices.SortStableFunc(ordered, func(a, b categorised) int { return score(b) - score(a) })
	var out []web.Service
	for _, sv := range ordered[:min(len(ordered), suggestions)] {
		out = append(out, sv.Service)
	}
	return out
}

// ageOf reads a person's age from an Italian fiscal code (-1 when it
// says none). The code holds the year's last two digits: a year ahead of
// now is of the last century. Letters stand for digits in codes made
// unique after a clash (omocodia).
func ageOf(code string, now time.Time) int {
	if len(code) != 16 {
		return -1
	}
	digit := func(b byte) int {
		switch {
		case b >= '0' && b <= '9':
			return int(b - '0')
		}
		for i, l := range "LMNPQRSTUV" {
			if rune(b) == l || rune(b) == l+'a'-'A' {
				return i
			}
		}
		return -1
	}
	y1, y2 := digit(code[6]), digit(code[7])
	month := map[byte]time.Month{'A': 1, 'B': 2, 'C': 3, 'D': 4, 'E': 5, 'H': 6, 'L': 7, 'M': 8, 'P': 9, 'R': 10, 'S': 11, 'T': 12}[code[8]&^0x20]
	d1, d2 := digit(code[9]), digit(code[10])
	if y1 < 0 || y2 < 0 || month == 0 || d1 < 0 || d2 < 0 {
		return -1
	}
	day := (d1*10 + d2) % 40 // women's days are 40 more
	year := 2000 + y1*10 + y2
	if year > now.Year() {
		year -= 100
	}
	birth := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if day < 1 || birth.Month() != month {
		return -1
	}
	age := now.Year() - year
	if now.Month() < month || now.Month() == month && now.Day() < day {
		age--
	}
	return age
}
