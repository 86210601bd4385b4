package live

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/sportello/sportello/core/store"
)

// busChannel is the one PostgreSQL channel every app instance listens on.
// Envelopes say whom they are for; an instance drops what is not its own.
const busChannel = "sportello_live"

// notifyLimit keeps a payload under PostgreSQL's 8000-byte NOTIFY limit.
// SDP is the only large thing sent, and it compresses well: larger
// payloads travel gzipped.
const notifyLimit = 7800

// envelope is a message between instances.
type envelope struct {
	From string `json:"from"` // the sending instance
	// To is a socket ("c:<entry>", "o:<tenant>:<user>"), an instance
	// ("i:<instance>", for a call's relay) or "" for every instance.
	To     string          `json:"to,omitempty"`
	Kind   string          `json:"kind"` // "msg", "relay", "queue", "kick"
	Tenant int64           `json:"tenant,omitempty"`
	Entry  int64           `json:"entry,omitempty"`
	Side   string          `json:"side,omitempty"`
	Step   string          `json:"step,omitempty"` // relay: answer, candidate, close, mode
	Body   string          `json:"body,omitempty"`
	Msg    json.RawMessage `json:"msg,omitempty"`
}

// bus carries envelopes between the app instances that share one
// PostgreSQL, with LISTEN/NOTIFY: no other moving part to run.
type bus struct {
	db  *store.DB
	log *slog.Logger
	me  string
}

func (b *bus) publish(ctx context.Context, e envelope) error {
	e.From = b.me
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode %s envelope: %w", e.Kind, err)
	}
	payload := string(raw)
	if len(payload) > notifyLimit {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		payload = "z:" + base64.StdEncoding.EncodeToString(buf.Bytes())
		if len(payload) > notifyLimit {
			return fmt.Errorf("%s envelope of %d bytes: too large for the bus", e.Kind, len(raw))
		}
	}
	if err := pgdriver.Notify(ctx, b.db.DB, busChannel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", e.Kind, err)
	}
	return nil
}

// listen delivers every envelope from another instance to fn until ctx
// ends. The listener reconnects by itself when PostgreSQL restarts;
// envelopes sent meanwhile are lost, which the periodic refresh of the
// queues makes good for positions (a call in progress then ends).
func (b *bus) listen(ctx context.Context, ready chan<- struct{}, fn func(envelope)) {
	ln := pgdriver.NewListener(b.db.DB)
	defer ln.Close()
	var once sync.Once
	isReady := func() { once.Do(func() { close(ready) }) }
	// Whoever waits for the bus is not kept waiting by a bus that stops.
	defer isReady()
	for {
		if err := ln.Listen(ctx, busChannel); err == nil {
			break
		} else if ctx.Err() != nil {
			return
		} else {
			b.log.Warn("live bus: listen", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	isReady()
	ch := ln.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case n, ok := <-ch:
			if !ok {
				return
			}
			if n.Channel != busChannel {
				continue
			}
			e, err := decodeEnvelope(n.Payload)
			if err != nil {
				b.log.Warn("live bus: bad envelope", "err", err)
				continue
			}
			if e.From == b.me {
				continue
			}
			fn(e)
		}
	}
}

func decodeEnvelope(payload string) (envelope, error) {
	var e envelope
	raw := []byte(payload)
	if z, ok := strings.CutPrefix(payload, "z:"); ok {
		gz, err := base64.StdEncoding.DecodeString(z)
		if err != nil {
			return e, fmt.Errorf("decode: %w", err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return e, fmt.Errorf("gunzip: %w", err)
		}
		if raw, err = io.ReadAll(io.LimitReader(zr, 1<<20)); err != nil {
			return e, fmt.Errorf("gunzip: %w", err)
		}
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, fmt.Errorf("decode: %w", err)
	}
	return e, nil
}
