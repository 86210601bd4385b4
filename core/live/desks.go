package live

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sportello/sportello/plugins/sdk"
)

// DeskConfig is what the host reads of a live service's configuration:
// the service's hours, and the desks as lines of text (sdk.ParseDesks),
// each with its operators and, if it keeps them, its own hours.
type DeskConfig struct {
	Days   []string `json:"days"`
	Opens  string   `json:"opens"`
	Closes string   `json:"closes"`
	Desks  string   `json:"desks"`
}

// defaultDesk is the desk of a service that configures none.
var defaultDesk = sdk.Desk{ID: "urp", Name: "URP"}

// DesksOf reads the desks of a live service's configuration, open or not
// at now.
func DesksOf(config json.RawMessage, now time.Time) ([]Desk, error) {
	c := DeskConfig{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Opens: "09:00", Closes: "12:30"}
	if len(config) > 0 {
		if err := json.Unmarshal(config, &c); err != nil {
			return nil, fmt.Errorf("desks: %w", err)
		}
	}
	lines := sdk.ParseDesks(c.Desks)
	if len(lines) == 0 {
		lines = []sdk.Desk{defaultDesk}
	}
	out := make([]Desk, 0, len(lines))
	for _, d := range lines {
		out = append(out, Desk{ID: d.ID, Name: d.Name, Operators: d.Operators, Open: d.OpenAt(now, c.Days, c.Opens, c.Closes)})
	}
	return out, nil
}
