package dossier

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxFileSize is the size limit of one attachment unless
// configured.
const DefaultMaxFileSize = 10 << 20

const maxFileName = 255

// Files keeps attachment contents in a folder, as
// <dir>/<tenant id>/<first two hex digits>/<sha256>: a backup of
// PostgreSQL and this folder holds every dossier whole. Content-addressed,
// so one file uploaded twice is kept once, and a file is never rewritten
// once in place.
type Files struct {
	dir     string
	maxSize int64
}

// FilesDir is where attachments go under the data folder
// (SPORTELLO_DATA_DIR, ".data" by default): dataDir/files.
func FilesDir(dataDir string) string { return filepath.Join(dataDir, "files") }

// NewFiles keeps files under dir (created if missing), each at most
// maxSize bytes (0: DefaultMaxFileSize).
func NewFiles(dir string, maxSize int64) (*Files, error) {
	if maxSize < 0 {
		return nil, fmt.Errorf("attachment size limit %d: negative", maxSize)
	}
	if maxSize == 0 {
		maxSize = DefaultMaxFileSize
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("attachment folder: %w", err)
	}
	return &Files{dir: dir, maxSize: maxSize}, nil
}

// MaxSize is the size limit of one file, for the upload form to show.
func (f *Files) MaxSize() int64 { return f.maxSize }

// Dir is the folder the files are in (to back up with the database).
func (f *Files) Dir() string { return f.dir }

// AllowedTypes are the content types accepted, with the extensions a
// file of each may have.
func AllowedTypes() map[string][]string {
	return map[string][]string{
		"application/pdf": {".pdf"},
		"image/png":       {".png"},
		"image/jpeg":      {".jpg", ".jpeg"},
	}
}

// magic is the signature each allowed type must start with: the sniffer
// alone would also take, say, a PDF signature found after some leading
// bytes.
var magic = map[string][]byte{
	"application/pdf": []byte("%PDF-"),
	"image/png":       []byte("\x89PNG\r\n\x1a\n"),
	"image/jpeg":      {0xff, 0xd8, 0xff},
}

// stored is a file written to the folder.
type stored struct {
	name        string
	contentType string
	size        int64
	sha256      string
	key         string
}

// fileName checks a file name from outside: the last element of a path
// (either separator), printable, with a known extension.
func fileName(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return "", fieldErr("file", "required")
	}
	if !utf8.ValidString(name) {
		return "", fieldErr("file", "invalid")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == 0 {
			return "", fieldErr("file", "invalid")
		}
	}
	if utf8.RuneCountInString(name) > maxFileName {
		return "", &FieldError{Field: "file", Code: "too_long", Limit: maxFileName}
	}
	return name, nil
}

// put checks and stores the content of r for tenantID. The content is
// streamed to a temporary file while hashed; only a file within the size
// limit, of an allowed type matching its name, is moved into place (and
// synced), so a refused upload leaves nothing behind.
func (f *Files) put(tenantID int64, name string, r io.Reader) (*stored, error) {
	if f == nil {
		return nil, errors.New("no attachment folder configured")
	}
	name, err := fileName(name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fieldErr("file", "required")
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read upload %q: %w", name, err)
	}
	head = head[:n]
	if n == 0 {
		return nil, fieldErr("file", "required")
	}
	ctype, err := checkType(name, head)
	if err != nil {
		return nil, err
	}

	tmp, err := os.CreateTemp(filepath.Join(f.dir, "tmp"), "upload-*")
	if err != nil {
		return nil, fmt.Errorf("store upload %q: %w", name, err)
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("store upload %q: %w", name, err)
	}
	// One byte past the limit tells a file that is too large.
	rest, err := io.Copy(w, io.LimitReader(r, f.maxSize-int64(n)+1))
	if err != nil {
		return nil, fmt.Errorf("store upload %q: %w", name, err)
	}
	size := int64(n) + rest
	if size > f.maxSize {
		return nil, fmt.Errorf("%q: more than %d bytes: %w", name, f.maxSize, ErrTooLarge)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("store upload %q: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("store upload %q: %w", name, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	key := storageKey(tenantID, sum)
	final := filepath.Join(f.dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return nil, fmt.Errorf("store upload %q: %w", name, err)
	}
	if _, err := os.Stat(final); err == nil {
		// The same content is already there: keep the one copy.
		os.Remove(tmp.Name())
	} else {
		if err := os.Rename(tmp.Name(), final); err != nil {
			return nil, fmt.Errorf("store upload %q: %w", name, err)
		}
		syncDir(filepath.Dir(final))
	}
	tmp = nil
	return &stored{name: name, contentType: ctype, size: size, sha256: sum, key: key}, nil
}

// checkType sniffs head and checks the type is allowed, starts with its
// signature, and agrees with the extension of name: a page or a program
// renamed to .pdf is refused, and so is a PNG called .jpg.
func checkType(name string, head []byte) (string, error) {
	sniffed, _, err := mime.ParseMediaType(http.DetectContentType(head))
	if err != nil {
		return "", fmt.Errorf("%q: unrecognised content: %w", name, ErrFileType)
	}
	exts, ok := AllowedTypes()[sniffed]
	if !ok || !bytes.HasPrefix(head, magic[sniffed]) {
		return "", fmt.Errorf("%q: content is %s: %w", name, sniffed, ErrFileType)
	}
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range exts {
		if ext == e {
			return sniffed, nil
		}
	}
	return "", fmt.Errorf("%q: content is %s, name says %q: %w", name, sniffed, ext, ErrFileType)
}

// syncDir makes a rename durable. Best effort: some file systems refuse
// to sync a directory, and the data is already synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

var keyRe = regexp.MustCompile(`^[0-9]+/[0-9a-f]{2}/[0-9a-f]{64}$`)

func storageKey(tenantID int64, sum string) string {
	return strconv.FormatInt(tenantID, 10) + "/" + sum[:2] + "/" + sum
}

// open opens the file of key after checking its content against sum; the
// caller closes it. The whole file is hashed first, so a damaged file is
// never served in part.
func (f *Files) open(tenantID int64, key, sum string) (*os.File, error) {
	if f == nil {
		return nil, errors.New("no attachment folder configured")
	}
	// The key comes from the database, but a file path is only ever made
	// from a checked one, and of the caller's tenant.
	if !keyRe.MatchString(key) || !strings.HasPrefix(key, strconv.FormatInt(tenantID, 10)+"/") {
		return nil, fmt.Errorf("attachment key %q: %w", key, ErrCorrupt)
	}
	file, err := os.Open(filepath.Join(f.dir, filepath.FromSlash(key)))
	if err != nil {
		return nil, fmt.Errorf("open attachment %s: %w", key, err)
	}
	var h hash.Hash = sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		file.Close()
		return nil, fmt.Errorf("read attachment %s: %w", key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		file.Close()
		return nil, fmt.Errorf("attachment %s: sha256 %s: %w", key, got, ErrCorrupt)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		file.Close()
		return nil, fmt.Errorf("read attachment %s: %w", key, err)
	}
	return file, nil
}
