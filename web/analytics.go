package web

// AnalyticsData is the Data of template "admin_analytics": a town's
// figures over a period, each as a table (what screen readers and pages
// without scripts read) with a CSV download, the charted ones also drawn
// by static/js/analytics.js from ChartsJSON.
type AnalyticsData struct {
	// From and To are the period's dates as the form shows them
	// (YYYY-MM-DD); Error, when set, says why the asked period was refused
	// (the figures are then empty).
	From, To, Error string
	// Weekly says the series are counted per week rather than per day.
	Weekly bool
	Tables []AnalyticsTable
	// Heat is the weekday × hour table of filings.
	Heat *AnalyticsHeat
	// ChartsJSON is {"<table id>": {"kind": "line"|"bar", "labels": [...],
	// "datasets": [{"label": "...", "data": [...]}]}} for the charted tables.
	ChartsJSON string
}

// AnalyticsTable is one figure: a caption, its header and rows, already
// formatted, and the URL of the same figure as CSV.
type AnalyticsTable struct {
	ID, Title, Note, CSV string
	// Chart says a canvas is drawn above the table.
	Chart bool
	Head  []string
	Rows  [][]string
}

// AnalyticsHeat is the weekday × hour table; each cell is shaded by how
// its count compares with the largest.
type AnalyticsHeat struct {
	Title, CSV string
	Days       []string
	Hours      []string
	Cells      [][]HeatCell // by day, then hour
}

// HeatCell is one count of the heat map.
type HeatCell struct {
	N     string
	Level int // 0 (none) to 4 (the largest counts)
}

// Class is the cell's shading, in Bootstrap's utilities.
func (c HeatCell) Class() string {
	switch {
	case c.Level <= 0:
		return ""
	case c.Level == 1:
		return "bg-primary bg-opacity-10"
	case c.Level == 2:
		return "bg-primary bg-opacity-25"
	case c.Level == 3:
		return "bg-primary bg-opacity-50"
	}
	return "bg-primary text-white"
}
