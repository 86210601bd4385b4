package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// hcLogger is go-plugin's logger writing into our slog log: go-plugin's own
// messages and the plugin's log lines (read from its stderr), each with the
// plugin id the slog logger carries.
type hcLogger struct {
	log  *slog.Logger
	name string
	args []any
}

var _ hclog.Logger = (*hcLogger)(nil)

func newHCLogger(l *slog.Logger) hclog.Logger { return &hcLogger{log: l} }

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	lv := slogLevel(level)
	if !h.log.Enabled(context.Background(), lv) {
		return
	}
	all := make([]any, 0, len(h.args)+len(args)+2)
	if h.name != "" {
		all = append(all, "logger", h.name)
	}
	all = append(all, h.args...)
	all = append(all, args...)
	for i := 0; i+1 < len(all); i += 2 {
		// go-plugin names the binary "plugin", which our log uses for the
		// plugin id.
		if all[i] == "plugin" {
			all[i] = "binary"
		}
	}
	h.log.Log(context.Background(), lv, msg, all...)
}

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) enabled(l hclog.Level) bool {
	return h.log.Enabled(context.Background(), slogLevel(l))
}
func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

func (h *hcLogger) ImpliedArgs() []any { return h.args }

func (h *hcLogger) With(args ...any) hclog.Logger {
	return &hcLogger{log: h.log, name: h.name, args: append(append([]any(nil), h.args...), args...)}
}

func (h *hcLogger) Name() string { return h.name }

func (h *hcLogger) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return &hcLogger{log: h.log, name: name, args: h.args}
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	return &hcLogger{log: h.log, name: name, args: h.args}
}

// SetLevel is a no-op: the slog handler decides.
func (h *hcLogger) SetLevel(hclog.Level) {}

// GetLevel is the lowest level the slog handler takes; go-plugin skips
// parsing the plugin's output when it is Off.
func (h *hcLogger) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hcLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineLogger{log: h.log, stream: h.name}
}

// lineLogger logs what a plugin writes to its standard output or error
// (go-plugin forwards them over gRPC), a line at a time.
type lineLogger struct {
	log    *slog.Logger
	stream string
	last   *lastLine // also told every line, if set

	mu  sync.Mutex
	buf []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		if strings.TrimSpace(line) == "" {
			continue
		}
		w.log.Info(line, "stream", w.stream)
		if w.last != nil {
			w.last.set(line)
		}
	}
	if len(w.buf) > 64<<10 { // a line without end: log what there is
		w.log.Info(string(w.buf), "stream", w.stream)
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// lastLine keeps the last non-blank line a plugin wrote to its stderr: a
// crash's reason often reads there (a panic, a fatal error, a message
// before os.Exit).
type lastLine struct {
	mu   sync.Mutex
	line string
	// panic holds the first line of a panic or fatal error, which says
	// more than the stack trace's last line.
	panic string
}

// Write gets go-plugin's raw copy of stderr, a line or a newline at a time.
func (l *lastLine) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		l.set(line)
	}
	return len(p), nil
}

func (l *lastLine) set(line string) {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, `{"@level":`) {
		// go-plugin's own JSON log in the plugin: chatter at debug and
		// trace level, worth keeping only when it reports a problem.
		var e struct {
			Level   string `json:"@level"`
			Message string `json:"@message"`
		}
		if json.Unmarshal([]byte(line), &e) != nil || (e.Level != "warn" && e.Level != "error") {
			return
		}
		line = e.Message
	}
	if line == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.panic == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
		l.panic = line
	}
	l.line = truncate(line, 300)
}

// suffix is the plugin's last words, to append to an error.
func (l *lastLine) suffix() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.panic != "":
		return fmt.Sprintf(" (%s)", truncate(l.panic, 300))
	case l.line != "":
		return fmt.Sprintf(" (last output: %s)", l.line)
	}
	return ""
}
