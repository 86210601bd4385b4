package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// export is the list of people available for one round and role, as CSV
// for the electoral office: by default the offers it accepted; with
// include "open", also those it has not checked yet. Rejected offers are
// never on it.
func (s *service) export(ctx context.Context, req *sdk.Request, cfg config) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind != "staff" {
		return sdk.Refused(msg.Get(lang, "staff_only")), nil
	}
	form := struct {
		Round   string `json:"round"`
		Role    string `json:"role"`
		Include string `json:"include"`
	}{Include: "approved"}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	roundID := form.Round
	if roundID == "" {
		// A round the town has since removed from its list can still be
		// exported by its code; without one, the current round is meant.
		rs, _ := rounds(req, cfg)
		r, ok := openRound(rs, s.clock())
		if !ok {
			r, ok = lastClosed(rs, s.clock())
		}
		if !ok {
			return sdk.Invalid("/round", msg.Get(lang, "export.which_round")), nil
		}
		roundID = r.ID
	}
	statuses := []string{statusApproved}
	if form.Include == "open" {
		statuses = append(statuses, statusSubmitted)
	}
	var rows []*pb.Dossier
	for _, st := range statuses {
		err := eachDossier(ctx, req.Host, st, func(d *pb.Dossier) error {
			od, err := dossierData(d)
			if err != nil {
				return err
			}
			if od.RoundID == roundID && od.Role == form.Role {
				rows = append(rows, d)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// In the order people offered: some towns appoint in that order.
	sort.Slice(rows, func(i, j int) bool { return rows[i].GetId() < rows[j].GetId() })
	content, err := availableCSV(rows, lang)
	if err != nil {
		return nil, err
	}
	// Who took a list of people's phone numbers, and which.
	if err := req.Host.Audit(ctx, "scrutineer.export", "round:"+roundID,
		map[string]any{"role": form.Role, "include": form.Include, "rows": len(rows)}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	done := msg.Get(lang, "export.done", len(rows))
	if len(rows) == 1 {
		done = msg.Get(lang, "export.done.one")
	}
	return &sdk.Response{
		Outcome: sdk.OutcomeOK,
		Message: done,
		File: &sdk.Download{
			Name:        msg.Get(lang, "export.file."+form.Role) + "-" + roundID + ".csv",
			ContentType: "text/csv; charset=utf-8",
			Content:     content,
		},
	}, nil
}

// pageSize is the most the host lists at once.
const pageSize = 200

// eachDossier calls fn for every dossier of the service in status, newest
// first, a page at a time.
func eachDossier(ctx context.Context, h sdk.Host, status string, fn func(*pb.Dossier) error) error {
	var before int64
	for {
		page, err := h.ListDossiers(ctx, sdk.DossierQuery{Status: status, Limit: pageSize, BeforeID: before})
		if err != nil {
			return fmt.Errorf("list %s dossiers: %w", status, err)
		}
		for _, d := range page {
			if err := fn(d); err != nil {
				return err
			}
			before = d.GetId()
		}
		if len(page) < pageSize {
			return nil
		}
	}
}

// availableCSV writes the list as an electoral office opens it in a
// spreadsheet: UTF-8 with a byte-order mark (names have accents),
// semicolons between cells (the list separator of Italian and German
// spreadsheets), a header in the office's language.
func availableCSV(rows []*pb.Dossier, lang string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	header := make([]string, 0, len(columns))
	for _, c := range columns {
		header = append(header, msg.Get(lang, "col."+c))
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, d := range rows {
		od, err := dossierData(d)
		if err != nil {
			return nil, err
		}
		section, experience := "", ""
		if od.Section > 0 {
			section = strconv.Itoa(od.Section)
		}
		if od.Experience != "" {
			experience = msg.Get(lang, "experience."+od.Experience)
		}
		record := []string{
			d.GetNumber(),
			time.Unix(d.GetCreatedUnix(), 0).In(sdk.Zone).Format("2006-01-02 15:04"),
			od.Round,
			msg.Get(lang, "role."+od.Role),
			msg.Get(lang, "status."+d.GetStatus()),
			od.Name,
			od.BirthDate,
			section,
			od.Phone,
			experience,
		}
		for i := range record {
			record[i] = cell(record[i])
		}
		if err := w.Write(record); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// columns of the list, in order; their headers are messages "col.<name>".
var columns = []string{"number", "submitted", "round", "role", "status", "name", "birth_date", "section", "phone", "experience"}

// cell defuses a value a spreadsheet would run as a formula (CSV
// injection): what starts with = + - @, a tab or a carriage return gets a
// leading apostrophe, which spreadsheets show as text. A phone number
// written "+39 …" is one of them, and reads the same.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
