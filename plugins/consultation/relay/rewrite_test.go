package relay

import (
	"testing"

	"github.com/pion/rtp"
)

func TestRewriterKeepsStreamContinuous(t *testing.T) {
	type pkt struct {
		source  uint64
		seq     uint16
		ts      uint32
		wantSeq uint16
	}
	tests := []struct {
		name string
		pkts []pkt
	}{
		{"first sender passes unchanged", []pkt{
			{1, 100, 1000, 100}, {1, 101, 1960, 101}, {1, 102, 2920, 102},
		}},
		{"wraps around", []pkt{
			{1, 65534, 1000, 65534}, {1, 65535, 1960, 65535}, {1, 0, 2920, 0},
		}},
		{"new sender continues after the old one", []pkt{
			{1, 100, 1000, 100}, {1, 101, 1960, 101},
			{2, 40000, 7, 102}, {2, 40001, 967, 103},
		}},
		{"reordered packet of the new sender keeps its place", []pkt{
			{1, 500, 1000, 500},
			{2, 9, 50, 501}, {2, 11, 80, 503}, {2, 10, 70, 502}, {2, 12, 90, 504},
		}},
		{"new sender far behind in numbers", []pkt{
			{1, 65000, 4000000000, 65000},
			{2, 3, 12, 65001}, {2, 4, 20, 65002},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := rewriter{clock: 48000}
			var lastTS uint32
			for i, p := range tt.pkts {
				h := rtp.Header{SequenceNumber: p.seq, Timestamp: p.ts}
				w.rewrite(p.source, &h)
				if h.SequenceNumber != p.wantSeq {
					t.Fatalf("packet %d: sequence %d, want %d", i, h.SequenceNumber, p.wantSeq)
				}
				// Timestamps move forward across the switch of sender.
				if i > 0 && p.source != tt.pkts[i-1].source && int32(h.Timestamp-lastTS) <= 0 {
					t.Fatalf("packet %d: timestamp %d not after %d", i, h.Timestamp, lastTS)
				}
				lastTS = h.Timestamp
			}
		})
	}
}
