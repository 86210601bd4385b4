package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// ResourceBySlug returns the tenant's resource slug.
func (e *Engine) ResourceBySlug(ctx context.Context, tenantID int64, slug string) (*Resource, error) {
	if !slugPattern.MatchString(slug) {
		return nil, fmt.Errorf("resource %q: %w", slug, ErrNotFound)
	}
	var out *Resource
	err := e.inTenant(ctx, tenantID, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = scanResource(tx.QueryRowContext(ctx, "SELECT "+resourceCols+" FROM booking_resources WHERE tenant_id = ? AND slug = ?", tenantID, slug))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("resource %s: %w", slug, ErrNotFound)
		}
		return err
	})
	return out, err
}

// Declare makes the tenant's resource r.Slug what a configuration says:
// the resource (created, or updated by slug), its opening hours (the rules
// replaced) and its own closing days (replaced; closures of the whole
// tenant are the office's and stay). Everything is checked before
// anything is written, and what already matches is not written again, so
// a service may declare its configuration as often as it likes.
func (e *Engine) Declare(ctx context.Context, tenantID int64, r Resource, hours []Hours, closures []Closure) (*Resource, error) {
	if err := r.normalize(); err != nil {
		return nil, err
	}
	if _, err := e.zone(r.Calendar.TimeZone); err != nil {
		return nil, invalidf("resource %s: %v", r.Slug, err)
	}
	want, err := hourRules(hours)
	if err != nil {
		return nil, err
	}
	wantClosures := map[closureKey]bool{}
	for i, c := range closures {
		if c.From.IsZero() || c.To.IsZero() {
			return nil, invalidf("closures[%d]: a closure needs its first and last day", i)
		}
		c.From, c.To = day(c.From), day(c.To)
		switch {
		case c.To.Before(c.From):
			return nil, invalidf("closure ends on %s, before it starts on %s", c.To.Format(time.DateOnly), c.From.Format(time.DateOnly))
		case c.To.Sub(c.From) > 366*24*time.Hour:
			return nil, invalidf("a closure spans at most a year")
		case len(c.Reason) > 200:
			return nil, invalidf("closure reason: at most 200 characters")
		}
		wantClosures[closureKey{c.From, c.To, c.Reason}] = true
	}

	cur, err := e.ResourceBySlug(ctx, tenantID, r.Slug)
	switch {
	case errors.Is(err, ErrNotFound):
		cur = nil
	case err != nil:
		return nil, err
	}
	if cur == nil || !sameResource(cur, &r) {
		if cur, err = e.DefineResource(ctx, tenantID, r); err != nil {
			return nil, err
		}
	}
	have, err := e.Hours(ctx, tenantID, cur.ID)
	if err != nil {
		return nil, err
	}
	got, err := hourRules(have)
	if err != nil {
		return nil, fmt.Errorf("resource %s: stored hours: %w", r.Slug, err)
	}
	if !maps.EqualFunc(got, want, func(a, b hourRule) bool { return a.equal(b) }) {
		if err := e.SetHours(ctx, tenantID, cur.ID, hours); err != nil {
			return nil, err
		}
	}
	stored, err := e.Closures(ctx, tenantID, cur.ID, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	for _, c := range stored {
		if c.ResourceID != cur.ID {
			continue // the tenant's own closing days
		}
		k := closureKey{c.From, c.To, c.Reason}
		if wantClosures[k] {
			delete(wantClosures, k) // already there
			continue
		}
		if err := e.RemoveClosure(ctx, tenantID, c.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	for k := range wantClosures {
		if _, err := e.AddClosure(ctx, tenantID, Closure{ResourceID: cur.ID, From: k.from, To: k.to, Reason: k.reason}); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

type closureKey struct {
	from, to time.Time
	reason   string
}

// hourRule is an opening-hour rule as compared: what SetHours stores.
type hourRule struct {
	days          []int16
	opens, closes clock
	from, to      time.Time
}

func (a hourRule) equal(b hourRule) bool {
	return slices.Equal(a.days, b.days) && a.opens == b.opens && a.closes == b.closes && a.from.Equal(b.from) && a.to.Equal(b.to)
}

// hourRules checks hours as SetHours does and returns them by name.
func hourRules(hours []Hours) (map[string]hourRule, error) {
	out := make(map[string]hourRule, len(hours))
	for i, h := range hours {
		if h.Name == "" || len(h.Name) > 80 {
			return nil, invalidf("hours[%d]: a name of 1-80 characters", i)
		}
		if _, dup := out[h.Name]; dup {
			return nil, invalidf("hours[%d]: the name %q is used twice", i, h.Name)
		}
		var r hourRule
		var err error
		if r.days, err = isoWeekdays(h.Weekdays); err != nil {
			return nil, invalidf("hours %q: %v", h.Name, err)
		}
		if r.opens, err = parseClock(h.Opens); err != nil {
			return nil, invalidf("hours %q opens: %v", h.Name, err)
		}
		if r.closes, err = parseClock(h.Closes); err != nil {
			return nil, invalidf("hours %q closes: %v", h.Name, err)
		}
		if r.closes <= r.opens {
			return nil, invalidf("hours %q: closes at %s, not after it opens at %s", h.Name, r.closes, r.opens)
		}
		if !h.ValidFrom.IsZero() {
			r.from = day(h.ValidFrom)
		}
		if !h.ValidTo.IsZero() {
			r.to = day(h.ValidTo)
		}
		if !r.from.IsZero() && !r.to.IsZero() && r.to.Before(r.from) {
			return nil, invalidf("hours %q: valid until %s, before it starts on %s", h.Name, r.to.Format(time.DateOnly), r.from.Format(time.DateOnly))
		}
		out[h.Name] = r
	}
	return out, nil
}

// sameResource reports whether the stored resource a already is b
// (normalized), so that declaring it again need not write.
func sameResource(a, b *Resource) bool {
	return a.Kind == b.Kind && maps.Equal(a.Name, b.Name) && a.OfficeID == b.OfficeID && a.Capacity == b.Capacity &&
		a.PriceCents == b.PriceCents && a.Currency == b.Currency && a.ApprovalRequired == b.ApprovalRequired &&
		a.Disabled == b.Disabled && a.Calendar == b.Calendar
}
