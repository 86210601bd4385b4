package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
	"github.com/sportello/sportello/plugins/sdk/pb"
)

// registerRow is one request in the register of access requests (registro
// degli accessi, ANAC guidelines, delibera 1309/2016 § 9): when, what, who
// decided it and how. Nothing in it names or describes the applicant: the
// register is published.
type registerRow struct {
	Number         string   `json:"number"`
	Date           string   `json:"date"` // of the request, 2006-01-02
	Type           string   `json:"type"` // civic, generalised, documentary
	Object         string   `json:"object"`
	Office         string   `json:"office"`
	Counterparties bool     `json:"counterparties"`
	Outcome        string   `json:"outcome"` // pending, granted, partly_granted, refused, withdrawn
	OutcomeDate    string   `json:"outcome_date,omitempty"`
	Grounds        []string `json:"grounds,omitempty"`
}

// registerData is the register as the API gives it.
type registerData struct {
	Year     int           `json:"year"`
	Requests []registerRow `json:"requests"`
}

// register exports one year's register: as a CSV download, and as data
// for a client that asks the host for JSON.
func (s *service) register(ctx context.Context, req *sdk.Request) (*sdk.Response, error) {
	lang := req.Lang
	if req.Actor.Kind != "staff" {
		return sdk.Refused(msg.Get(lang, "staff_only")), nil
	}
	var form struct {
		Year int `json:"year"`
	}
	if err := req.Decode(&form); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	year := form.Year
	if year == 0 {
		year = s.clock().In(sdk.Zone).Year()
	}
	rows, err := registerRows(ctx, req.Host, year)
	if err != nil {
		return nil, err
	}
	content, err := registerCSV(rows, lang)
	if err != nil {
		return nil, err
	}
	return &sdk.Response{
		Outcome: sdk.OutcomeOK,
		Message: msg.Get(lang, "register.done", year, len(rows)),
		Data:    registerData{Year: year, Requests: rows},
		File: &sdk.Download{
			Name:        fmt.Sprintf("%s-%d.csv", msg.Get(lang, "register.file"), year),
			ContentType: "text/csv; charset=utf-8",
			Content:     content,
		},
	}, nil
}

// registerRows reads the requests made in year, oldest first.
func registerRows(ctx context.Context, h sdk.Host, year int) ([]registerRow, error) {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, sdk.Zone)
	to := from.AddDate(1, 0, 0)
	var rows []registerRow
	err := eachDossier(ctx, h, "", func(d *pb.Dossier) error {
		created := time.Unix(d.GetCreatedUnix(), 0)
		if !created.Before(to) {
			return nil
		}
		if created.Before(from) {
			return errStop // newest first: the rest are older still
		}
		var rd requestData
		if len(d.GetDataJson()) > 0 {
			if err := json.Unmarshal(d.GetDataJson(), &rd); err != nil {
				return fmt.Errorf("dossier %s: data: %w", d.GetNumber(), err)
			}
		}
		cs, err := readCase(ctx, h, d.GetId())
		if err != nil {
			return err
		}
		row := registerRow{Number: d.GetNumber(), Date: created.In(sdk.Zone).Format(time.DateOnly), Type: rd.Type,
			Object: rd.Subject, Office: rd.OfficeName, Counterparties: cs.Counterparties > 0, Outcome: "pending"}
		if cs.RegisterObject != "" {
			row.Object = cs.RegisterObject
		}
		if !open(d.GetStatus()) {
			row.Outcome, row.Grounds = d.GetStatus(), cs.Grounds
			if cs.DecidedUnix != 0 {
				row.OutcomeDate = time.Unix(cs.DecidedUnix, 0).In(sdk.Zone).Format(time.DateOnly)
			}
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Number < rows[j].Number })
	return rows, nil
}

// registerColumns are the register's columns, in order; their headers
// are messages "col.<name>".
var registerColumns = []string{"number", "date", "type", "object", "office", "counterparties", "outcome", "outcome_date", "grounds"}

// registerCSV writes the register as offices open it in a spreadsheet:
// UTF-8 with a byte-order mark, semicolons between cells (the list
// separator of Italian and German spreadsheets), labels in lang.
func registerCSV(rows []registerRow, lang string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	header := make([]string, len(registerColumns))
	for i, c := range registerColumns {
		header[i] = msg.Get(lang, "col."+c)
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, r := range rows {
		grounds := make([]string, len(r.Grounds))
		for i, g := range r.Grounds {
			grounds[i] = msg.Get(lang, "ground."+g)
		}
		counterparties := msg.Get(lang, "no")
		if r.Counterparties {
			counterparties = msg.Get(lang, "yes")
		}
		record := []string{r.Number, r.Date, msg.Get(lang, "kind."+r.Type), r.Object, r.Office, counterparties,
			msg.Get(lang, "status."+r.Outcome), r.OutcomeDate, strings.Join(grounds, "; ")}
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

// cell defuses a value a spreadsheet would run as a formula (CSV
// injection): what starts with = + - @, a tab or a carriage return gets a
// leading apostrophe, which spreadsheets show as text.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// errStop ends eachDossier early, without an error.
var errStop = errors.New("stop")

// pageSize is the most the host lists at once.
const pageSize = 200

// eachDossier calls fn for every dossier of the service in status ("" for
// all), newest first, a page at a time, until fn returns an error.
func eachDossier(ctx context.Context, h sdk.Host, status string, fn func(*pb.Dossier) error) error {
	var before int64
	for {
		page, err := h.ListDossiers(ctx, sdk.DossierQuery{Status: status, Limit: pageSize, BeforeID: before})
		if err != nil {
			return fmt.Errorf("list dossiers: %w", err)
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
